"""Internal inventory events: movements routed by SKU, and the stock ledger the table emits."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from streams.base import Event, Id, NodeId, Record, Sku, UtcDatetime

MovementKind = Literal[
    "sale",
    "return",
    "return_damaged",
    "void",
    "receipt",
    "count",
    "damage",
    "transfer_out",
    "transit_in",
    "transfer_in",
    "hold_commit",
    "unheld_commit",
]


class StockMovement(Event):
    """One line of a source event, re-keyed by SKU for the stock table.

    `event_id` is `<cause_event_id>:<n>`: a redelivered or replayed source event yields the
    same ids, which is how the stock table recognises it. `quantity` is a signed delta,
    except for `count`, where it is the counted quantity that replaces on hand.
    """

    type: Literal["stock.movement"] = "stock.movement"
    event_id: Id
    sku: Sku
    node: NodeId
    kind: MovementKind
    quantity: int = Field(ge=-100_000, le=10_000_000)
    cause_event_id: Id
    cause_type: str
    # Transfers: `transit_in` puts `quantity` in transit to `node` until `eta`; `transfer_in`
    # books `quantity` received and closes `expected` units of the transfer's transit.
    transfer_id: Id | None = None
    eta: UtcDatetime | None = None
    expected: int | None = Field(default=None, ge=0, le=100_000)


class StockChanged(Event):
    """A ledger entry: what a movement did to one position, and the position after it."""

    type: Literal["stock.changed"] = "stock.changed"
    event_id: Id
    movement_id: Id
    sku: Sku
    node: NodeId
    kind: MovementKind
    on_hand_delta: int
    damaged_delta: int
    on_hand_after: int
    damaged_after: int
    cause_event_id: Id
    cause_type: str
    movement_offset: int = Field(ge=0)  # orders one SKU's entries: later offset, later state
    in_transit_delta: int = 0
    in_transit_after: int = 0
    transfer_id: Id | None = None
    variance: int | None = None  # received - expected, on a transfer receipt


class InboundLot(Record):
    """Units in transit to a node, due at `eta`."""

    transfer_id: Id
    quantity: int
    eta: UtcDatetime


class AvailabilityChanged(Event):
    """The latest availability of one SKU at one node (compacted: the newest per key wins)."""

    type: Literal["availability.changed"] = "availability.changed"
    event_id: Id
    sku: Sku
    node: NodeId
    on_hand: int
    held: int
    safety: int
    atp: int
    in_transit: int = 0
    inbound: list[InboundLot] = Field(default_factory=list)  # by eta: what can be promised for a date


class NetworkAvailabilityChanged(Event):
    """The latest availability of one SKU across the whole network."""

    type: Literal["availability.network_changed"] = "availability.network_changed"
    event_id: Id
    sku: Sku
    on_hand: int
    held: int
    atp: int
    nodes_with_atp: int
    in_transit: int = 0
