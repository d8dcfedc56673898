"""Sourcing: which node(s) fulfil an order, as a pure, deterministic function of a snapshot. Pure.

`decide(request, snapshot, network, profile)` returns the plan and its explanation: every
eliminated node with its reason, the scored candidate plans (single node first, then splits up
to the profile's `max_split`, bounded by its `check_budget`), and the winner. Same inputs, same
decision. The snapshot is eventually consistent: a plan may still be refused by the stock
authority, and the caller decides again with that option in `Request.excluded`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from domain.fulfilment.network import Network
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
    raise NotImplementedError
