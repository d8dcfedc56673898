"""Sourcing: which node(s) fulfil an order, as a pure, deterministic function of a snapshot. Pure.

`decide(request, snapshot, network, profile)` returns the plan and its explanation: every
eliminated node with its reason, the scored candidate plans (single node first, then splits up
to the profile's `max_split`, bounded by its `check_budget`), and the winner. Same inputs, same
decision. The snapshot is eventually consistent: a plan may still be refused by the stock
authority, and the caller decides again with that option in `Request.excluded`.

The steps live beside this module: `eligibility` (which nodes may serve, which lines each
has), `slots` (the earliest free capacity slot), `search` (single nodes, then splits),
`costs` (distance, price, promise), `pickup` (the customer's store or transfers) and
`outcome` (the explanation as contract models).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from domain.fulfilment import outcome
from domain.fulfilment.costs import Tariff, radians, tariff_of
from domain.fulfilment.eligibility import Line, Rules, blocked_pairs, screen
from domain.fulfilment.network import Network
from domain.fulfilment.pickup import pickup
from domain.fulfilment.search import Search
from domain.fulfilment.slots import Window, window
from streams.fulfilment import Candidate, Elimination, Method, ProfileDefined, PromiseClass, Shipment


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_cents: int


@dataclass(frozen=True)
class Request:
    """An order to source. `excluded` holds `node` (the whole node) or `sku@node` entries
    ruled out by earlier attempts (a refused hold, a store's rejection)."""

    order_id: str
    method: Method
    promise: PromiseClass
    lines: tuple[OrderLine, ...]
    at: datetime  # the decision's time: the order's placement, or the retry's cause
    lat: float | None = None  # destination (ship, same_day)
    lon: float | None = None
    pickup_node: str | None = None
    excluded: frozenset[str] = frozenset()


class Snapshot(Protocol):
    """What sourcing reads: ATP per SKU and node, free capacity per node, method and slot."""

    def atp(self, sku: str) -> Mapping[str, int]:
        """node -> units available to promise (absent: none)."""
        ...

    def free_capacity(self, node: str, method: Method, slot_start: datetime) -> int:
        """Capacity units still free in the slot (0 when the slot was never opened)."""
        ...


@dataclass(frozen=True)
class TransferNeed:
    """A pick-up order's store lacks units: where the nearest node has them."""

    sku: str
    quantity: int
    from_node: str
    km: float


@dataclass(frozen=True)
class Decision:
    outcome: Literal["planned", "rejected", "waiting"]
    reason: str
    shipments: tuple[Shipment, ...] = ()
    candidates: tuple[Candidate, ...] = ()  # the best few, ranked
    candidates_scored: int = 0
    eliminated: tuple[Elimination, ...] = ()
    cost_cents: int = 0
    km: float = 0.0
    transfers: tuple[TransferNeed, ...] = field(default=())  # waiting pick-up orders


def decide(request: Request, snapshot: Snapshot, network: Network, profile: ProfileDefined) -> Decision:
    """The plan for `request` (or why there is none), as of `request.at`, from the snapshot and tables given."""
    if network.costs is None:
        return Decision("rejected", "no cost tables are published")
    lines = merged(request.lines)
    if not lines:
        return Decision("rejected", "the order has no lines")
    tariff = tariff_of(network.costs)
    promise_s = tariff.express_s if request.promise == "express" else tariff.standard_s
    w = window(request.method, request.promise, request.at, promise_s, snapshot.free_capacity)
    point = None if request.lat is None or request.lon is None else radians(request.lat, request.lon)
    rules = Rules(method=request.method, kinds=frozenset(profile.nodes_for.get(request.method, ())),
                  excluded=request.excluded, blocked=blocked_pairs(request.excluded) if request.excluded else {},
                  point=point if request.method == "same_day" else None, radius_km=tariff.radius_km)
    if request.method == "pickup":
        return _pickup(request, snapshot, network, profile, lines, Planning(rules, w, tariff))
    if point is None:
        return Decision("rejected", f"a {request.method} order needs the destination's lat and lon")
    return _deliver(snapshot, network, profile, lines, Planning(rules, w, tariff), point)


@dataclass(frozen=True)
class Planning:
    """What a decision plans with: the rules it applies, its view of time, the cost tables."""

    rules: Rules
    window: Window
    tariff: Tariff


def merged(lines: tuple[OrderLine, ...]) -> tuple[Line, ...]:
    """One line per SKU, in the order's order: quantities and values of repeated SKUs add up."""
    by_sku: dict[str, tuple[int, int]] = {}
    for line in lines:
        quantity, cents = by_sku.get(line.sku, (0, 0))
        by_sku[line.sku] = quantity + line.quantity, cents + line.quantity * line.unit_cents
    return tuple((sku, quantity, cents) for sku, (quantity, cents) in by_sku.items())


def _deliver(snapshot: Snapshot, network: Network, profile: ProfileDefined, lines: tuple[Line, ...], planning: Planning,
             point: tuple[float, float, float]) -> Decision:
    """Ship or same-day: every eligible node, single nodes first, then splits."""
    screened = screen(network.nodes, lines, planning.rules, snapshot.atp)
    short = screened.uncovered(lines)
    if short:
        return Decision("rejected", outcome.missing(short, lines, screened.eliminated),
                        eliminated=outcome.eliminations(screened.eliminated))
    found = Search(screened, lines, planning.window, planning.tariff, profile, point).run()
    eliminated = screened.eliminated + found.eliminated
    if not found.plans:
        return Decision("rejected", outcome.exhausted(found, profile.max_split, profile.check_budget, eliminated),
                        candidates_scored=found.scored, eliminated=outcome.eliminations(eliminated))
    best = found.plans[0]
    return Decision("planned", outcome.planned(best, found.scored),
                    shipments=outcome.shipments(best, lines, planning.window.method),
                    candidates=outcome.candidates(found.plans), candidates_scored=found.scored,
                    eliminated=outcome.eliminations(eliminated), cost_cents=best.cost, km=round(best.km, 3))


def _pickup(request: Request, snapshot: Snapshot, network: Network, profile: ProfileDefined, lines: tuple[Line, ...],
            planning: Planning) -> Decision:
    """Pick-up: the customer's store or nothing; short stock waits for the transfers named."""
    result = pickup(request.pickup_node, network.nodes, lines, planning.rules, planning.window, planning.tariff,
                    profile, snapshot.atp)
    transfers = tuple(TransferNeed(sku=sku, quantity=units, from_node=node, km=km)
                      for sku, units, node, km in result.transfers)
    eliminated = outcome.eliminations(result.eliminated)
    if result.plan is None:
        return Decision(result.outcome, outcome.clip(result.reason), candidates_scored=result.scored,
                        eliminated=eliminated, transfers=transfers)
    plan = result.plan
    return Decision("planned", result.reason, shipments=outcome.shipments(plan, lines, "pickup"),
                    candidates=outcome.candidates([plan]), candidates_scored=result.scored, eliminated=eliminated,
                    cost_cents=plan.cost, km=0.0)
