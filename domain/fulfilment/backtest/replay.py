"""One profile over the month: each order decided against the world as it stands, in time order. Pure.

Restocks, walk-in sales and orders are merged by time (at the same instant: restock, then
walk-in, then order). A planned order takes its units and capacity from this profile's own
world; a rejected or waiting one takes nothing. The sourcing function is handed in, so the
replay runs any `decide` with the same signature.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.fulfilment.backtest.month import ZONE, delivery_of
from domain.fulfilment.backtest.scenario import Scenario
from domain.fulfilment.backtest.world import Tally, World
from domain.fulfilment.costs import DAY_S
from domain.fulfilment.network import Network
from domain.fulfilment.slots import promise_deadline
from domain.fulfilment.sourcing import Decision, Request, Snapshot
from streams.fulfilment import Elimination, ProfileDefined, Shipment

Decide = Callable[[Request, Snapshot, Network, ProfileDefined], Decision]
RESTOCK, WALK_IN, ORDER = 0, 1, 2  # at the same instant, in this order
SLOTS = frozenset({"closed", "no_capacity", "too_far_for_promise"})


@dataclass(frozen=True)
class Outcome:
    """What became of one order under one profile."""

    order_id: str
    delivery: str  # standard, express, same_day, pickup
    outcome: str  # planned, rejected, waiting, refused (planned on a snapshot the world could not hold)
    why: str  # not planned: stock, capacity or radius
    shipments: tuple[Shipment, ...]
    cost_cents: int  # the shipments and the split penalty
    promise_met: bool


@dataclass(frozen=True)
class Replayed:
    profile_id: str
    outcomes: tuple[Outcome, ...]
    tally: Tally
    world: World


def replay(scenario: Scenario, network: Network, profile: ProfileDefined, decide: Decide,
           progress: Callable[[int], None] | None = None) -> Replayed:
    """Every order of `scenario` decided by `decide` under `profile`; `progress(n)` after each n orders."""
    world = World.of(scenario)
    allowed = _allowed(scenario, profile)
    outcomes = []
    for kind, index in _timeline(scenario):
        if kind == RESTOCK:
            world.restock()
        elif kind == WALK_IN:
            world.walk_in(scenario.walk_ins[index])
        else:
            outcomes.append(_order(scenario.orders[index], world, network, profile, decide, allowed))
            if progress is not None and len(outcomes) % 100 == 0:
                progress(100)
    if progress is not None:
        progress(len(outcomes) % 100)
    return Replayed(profile.profile_id, tuple(outcomes), world.tally, world)


def _allowed(scenario: Scenario, profile: ProfileDefined) -> dict[str, frozenset[str]]:
    """The nodes the profile lets serve each method (the method's kinds, among the nodes that offer it)."""
    return {method: frozenset(n.node_id for n in scenario.nodes if n.kind in kinds and method in n.methods)
            for method, kinds in profile.nodes_for.items()}


def _timeline(scenario: Scenario) -> Iterator[tuple[int, int]]:
    restocks = ((at, RESTOCK, i) for i, at in enumerate(scenario.restocks))
    walk_ins = ((w.at, WALK_IN, i) for i, w in enumerate(scenario.walk_ins))
    orders = ((r.at, ORDER, i) for i, r in enumerate(scenario.orders))
    for _, kind, index in heapq.merge(restocks, walk_ins, orders):
        yield kind, index


def _order(request: Request, world: World, network: Network, profile: ProfileDefined, decide: Decide,
           allowed: Mapping[str, frozenset[str]]) -> Outcome:
    decision = decide(request, world, network, profile)
    delivery = delivery_of(request)
    if decision.outcome != "planned":
        why = rejection(decision.eliminated, allowed.get(request.method, frozenset()))
        return Outcome(request.order_id, delivery, decision.outcome, why, (), 0, False)
    if not world.hold(decision.shipments):
        return Outcome(request.order_id, delivery, "refused", "", (), 0, False)
    penalty = network.costs.split_penalty_cents if network.costs else 0
    cost = sum(s.cost_cents for s in decision.shipments) + penalty * (len(decision.shipments) - 1)
    met = all(s.promised_at <= deadline(request, network) for s in decision.shipments)
    return Outcome(request.order_id, delivery, "planned", "", decision.shipments, cost, met)


def rejection(eliminated: tuple[Elimination, ...], allowed: frozenset[str]) -> str:
    """Why no node could take the order (or its pick-up store could not yet): `radius` when every node
    the profile allows for the method is out of the same-day radius; `capacity` when a node with the
    units was closed or full (slots are checked only for nodes with stock); else `stock`."""
    reasons = {e.reason for e in eliminated}
    if allowed and allowed <= {e.node for e in eliminated if e.reason == "out_of_radius"}:
        return "radius"
    if reasons & SLOTS:
        return "capacity"
    return "stock"


def deadline(request: Request, network: Network) -> datetime:
    """The latest a shipment may arrive and keep the order's promise: same-day by the end of the order's
    local day, express and standard within their number of days."""
    if request.promise == "same_day":
        local = request.at.astimezone(ZoneInfo(ZONE))
        return local.replace(hour=23, minute=59, second=59)
    costs = network.costs
    days = (costs.express_within_days if request.promise == "express" else costs.standard_within_days) if costs else 0
    return promise_deadline(request.at, days * DAY_S)  # the day sourcing itself promises to
