"""Sourced orders in the saga: from a sourcing decision to lines and holds, and back to events. Pure.

An order placed without a node is sourced (`domain.fulfilment.sourcing`); its plan becomes one
line per SKU and node plus one capacity line per shipment (a hold on the node's capacity SKU
for the slot: `domain.fulfilment.capacity`), all held through the same all-or-nothing saga.
Every decision becomes a `fulfilment.decided` event. The sourcing function itself, bound to
the worker's snapshot, the network and the active profile, is handed in as a `Sourcer`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from domain.fulfilment.capacity import capacity_sku
from domain.fulfilment.sourcing import Decision, OrderLine, Request
from domain.ids import derived_id
from streams.base import Record
from streams.fulfilment import FulfilmentDecided, Method, PromiseClass, TransferSuggested
from streams.orders import OrderPlaced

HOLD_ID_MAX = 160
ATTEMPTS_WHEN_NO_PROFILE = 3


class AskLine(Record):
    sku: str
    quantity: int
    unit_cents: int


class Ask(Record):
    """What a sourced order asks for, kept to decide again (a refused hold, a store's no)."""

    method: Method
    promise: PromiseClass
    lat: float | None = None
    lon: float | None = None
    pickup_node: str | None = None
    lines: list[AskLine]


@dataclass(frozen=True)
class Sourced:
    """A decision and what it was decided with (the profile, the tables, the snapshot read)."""

    decision: Decision
    profile_id: str
    profile_version: int
    costs_version: int
    max_attempts: int = ATTEMPTS_WHEN_NO_PROFILE
    network_versions: dict[str, int] = field(default_factory=dict)
    snapshot_offsets: dict[str, int] = field(default_factory=dict)
    decide_ms: float = 0.0


class Sourcer(Protocol):
    def __call__(self, request: Request) -> Sourced: ...


def ask_of(event: OrderPlaced) -> Ask:
    wanted: dict[str, list[int]] = {}
    for line in event.lines:
        units, cents = wanted.setdefault(line.sku, [0, 0])
        wanted[line.sku] = [units + line.quantity, cents + line.net_cents]
    return Ask(
        method=event.method, promise=event.promise_class, pickup_node=event.pickup_node,
        lat=event.ship_to.lat if event.ship_to else None, lon=event.ship_to.lon if event.ship_to else None,
        lines=[AskLine(sku=sku, quantity=q, unit_cents=cents // q) for sku, (q, cents) in wanted.items()],
    )


def request_of(order_id: str, ask: Ask, wanted: dict[str, int], at: datetime, excluded: list[str]) -> Request:
    """A sourcing request for `wanted` units per SKU (the whole order, or a remainder)."""
    cents = {line.sku: line.unit_cents for line in ask.lines}
    return Request(
        order_id=order_id, method=ask.method, promise=ask.promise, at=at, lat=ask.lat, lon=ask.lon,
        pickup_node=ask.pickup_node, excluded=frozenset(excluded),
        lines=tuple(OrderLine(sku=sku, quantity=q, unit_cents=cents.get(sku, 0)) for sku, q in sorted(wanted.items())
                    if q > 0),
    )


def hold_id(order_id: str, attempt: int, what: str, node: str) -> str:
    plain = f"{order_id}/{attempt}/{what}@{node}"
    if len(plain) <= HOLD_ID_MAX:
        return plain
    return f"d-{hashlib.sha256(plain.encode()).hexdigest()[:40]}/{attempt}/{what}@{node}"[:HOLD_ID_MAX]


@dataclass(frozen=True)
class PlannedHold:
    sku: str
    node: str
    quantity: int
    hold_id: str
    capacity: bool


def planned_holds(order_id: str, attempt: int, decision: Decision) -> list[PlannedHold]:
    """One hold per SKU and node of the plan, then one per shipment on the node's capacity slot."""
    holds = []
    for shipment in decision.shipments:
        for line in shipment.lines:
            holds.append(PlannedHold(line.sku, shipment.node, line.quantity,
                                     hold_id(order_id, attempt, line.sku, shipment.node), False))
    for shipment in decision.shipments:
        sku = capacity_sku(shipment.node, shipment.method, shipment.slot_start)
        slot = f"cap-{shipment.slot_start:%y%m%d%H}"  # another slot at the same node is another hold
        holds.append(PlannedHold(sku, shipment.node, shipment.capacity_units,
                                 hold_id(order_id, attempt, slot, shipment.node), True))
    return holds


def decided_event(
    order_id: str, attempt: int, sourced: Sourced, request: Request, at: datetime,
    outcome: Literal["planned", "rejected", "waiting"] | None = None, reason: str | None = None,
) -> FulfilmentDecided:
    d = sourced.decision
    return FulfilmentDecided(
        event_id=derived_id(order_id, f"decided:{attempt}"), occurred_at=at, source_node="hq", order_id=order_id,
        attempt=attempt, outcome=outcome or d.outcome, reason=(reason if reason is not None else d.reason)[:500],
        method=request.method, promise=request.promise, profile_id=sourced.profile_id,
        profile_version=sourced.profile_version, costs_version=sourced.costs_version,
        network_versions={n: v for n, v in sourced.network_versions.items()
                          if any(s.node == n for s in d.shipments)},
        snapshot_offsets=sourced.snapshot_offsets, shipments=list(d.shipments), candidates=list(d.candidates),
        candidates_scored=d.candidates_scored, eliminated=list(d.eliminated)[:1_000],
        excluded=sorted(request.excluded)[:100], retries=attempt - 1, cost_cents=d.cost_cents, km=round(d.km, 3),
        decide_ms=round(sourced.decide_ms, 3),
    )


def suggestions(
    order_id: str, to_node: str, decision: Decision, cause_id: str, at: datetime,
) -> list[TransferSuggested]:
    """A waiting pick-up order's shortfall, as transfers a person can approve."""
    out = []
    for n, need in enumerate(decision.transfers):
        out.append(TransferSuggested(
            event_id=derived_id(cause_id, f"transfer:{n}"), occurred_at=at, source_node="hq",
            suggestion_id=derived_id(order_id, f"pickup:{need.sku}"), sku=need.sku, from_node=need.from_node,
            to_node=to_node, quantity=need.quantity, from_on_hand=0, to_on_hand=0, from_daily_sales=0,
            to_daily_sales=0, from_cover_days_before=0, from_cover_days_after=0, to_cover_days_before=0,
            to_cover_days_after=0, as_of=at,
            reason=f"pick-up order {order_id} waits at {to_node}: {need.quantity} x {need.sku} from "
                   f"{need.from_node} ({need.km:.1f} km)"[:300],
        ))
    return out
