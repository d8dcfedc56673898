"""Stock per SKU per node, and the one change to it: a movement moves a position. Pure.

A SKU's value also carries the runtime's exactly-once bookkeeping (`watermark`, `unflushed`),
stored with it in one changelog record; the decisions here never read it (runtime/once.py).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from streams.base import Record, UtcDatetime
from streams.holds import Hold
from streams.inventory import StockMovement

# (on_hand_delta, damaged_delta, on_hand_after, damaged_after[, in_transit_delta, in_transit_after])
# of an emitted ledger entry; the last two are absent in values written before transfers.
EntryNumbers = tuple[int, ...]


class Inbound(Record):
    """Units of one transfer on their way to a node."""

    quantity: int = Field(ge=0)
    eta: UtcDatetime


class Position(Record):
    """One SKU at one node. `held` is the sum of its open holds; `safety` is never promised;
    `inbound` is what transfers are bringing (by transfer id), not yet on hand."""

    on_hand: int = 0
    damaged: int = Field(default=0, ge=0)
    held: int = Field(default=0, ge=0)
    safety: int = Field(default=0, ge=0)
    inbound: dict[str, Inbound] = Field(default_factory=dict)

    @property
    def atp(self) -> int:
        """Available to promise: what a new hold may take (never below zero)."""
        return max(0, self.on_hand - self.held - self.safety)

    @property
    def in_transit(self) -> int:
        return sum(lot.quantity for lot in self.inbound.values())

    def atp_by(self, moment: datetime) -> int:
        """What could be promised for `moment`: today's ATP plus transfers due by then."""
        due = sum(lot.quantity for lot in self.inbound.values() if lot.eta <= moment)
        return max(0, self.on_hand + due - self.held - self.safety)


class SkuStock(Record):
    """Every node's position of one SKU, plus what exactly-once needs (see module doc)."""

    sku: str
    positions: dict[str, Position] = Field(default_factory=dict)
    watermark: int = -1  # runtime/once.py's bookkeeping, kept in the same changelog record
    unflushed: dict[int, EntryNumbers] = Field(default_factory=dict)
    holds: dict[str, Hold] = Field(default_factory=dict)  # open, and resolved ones for a while

    def position(self, node: str) -> Position:
        return self.positions.get(node, Position())

    @property
    def total_on_hand(self) -> int:
        return sum(p.on_hand for p in self.positions.values())


def move(stock: SkuStock, movement: StockMovement) -> tuple[SkuStock, EntryNumbers]:
    """`stock` after `movement`, and the numbers of its ledger entry."""
    before = stock.position(movement.node)
    after = _moved(before, movement)
    moved = stock.model_copy(update={"positions": {**stock.positions, movement.node: after}})
    return moved, entry_numbers(before, after)


def entry_numbers(before: Position, after: Position) -> EntryNumbers:
    return (
        after.on_hand - before.on_hand, after.damaged - before.damaged, after.on_hand, after.damaged,
        after.in_transit - before.in_transit, after.in_transit,
    )


def _moved(before: Position, movement: StockMovement) -> Position:
    """The position after one movement. A till sale may drive on hand below zero: the
    shelf had what the books did not, and the next count corrects it."""
    q = movement.quantity
    match movement.kind:
        case "count":
            return before.model_copy(update={"on_hand": q})
        case "damage":
            moved = max(0, min(q, before.on_hand))
            return before.model_copy(update={"on_hand": before.on_hand - moved, "damaged": before.damaged + moved})
        case "return_damaged":
            return before.model_copy(update={"damaged": before.damaged + q})
        case "transit_in":
            if not (movement.transfer_id and movement.eta):  # nothing to track it by: not on hand either
                return before
            lot = before.inbound.get(movement.transfer_id)
            arriving = Inbound(quantity=q + (lot.quantity if lot else 0), eta=movement.eta)
            return before.model_copy(update={"inbound": {**before.inbound, movement.transfer_id: arriving}})
        case "transfer_in" if movement.transfer_id and movement.transfer_id in before.inbound:
            lot = before.inbound[movement.transfer_id]
            left = lot.quantity - (q if movement.expected is None else movement.expected)
            inbound = {tid: x for tid, x in before.inbound.items() if tid != movement.transfer_id}
            if left > 0:  # more of this transfer still to come
                inbound[movement.transfer_id] = lot.model_copy(update={"quantity": left})
            return before.model_copy(update={"on_hand": before.on_hand + q, "inbound": inbound})
        case _:
            return before.model_copy(update={"on_hand": before.on_hand + q})


def replay(movements: list[StockMovement]) -> dict[tuple[str, str], Position]:
    """The reference model: positions after applying each distinct movement once, in order."""
    seen: set[str] = set()
    positions: dict[tuple[str, str], Position] = {}
    for movement in movements:
        if movement.event_id in seen:
            continue
        seen.add(movement.event_id)
        key = (movement.sku, movement.node)
        positions[key] = _moved(positions.get(key, Position()), movement)
    return positions
