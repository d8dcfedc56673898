"""Stock per SKU per node, and the one decision that changes it: apply a movement, once.

Exactly-once on an at-least-once pipeline rests on three facts kept in the SKU's own
table value, which Faust writes as one changelog record:

- `watermark`: the last `inventory.movements` offset applied to this SKU. A record at or
  below it is a redelivery after a crash or rebalance: its effect is already in the state.
- `unflushed`: the numbers of the ledger entries emitted at offsets not yet known to be
  flushed, so a redelivered record re-emits its entry instead of losing it (the entry and the
  state are separate Kafka records; a crash can keep one and drop the other). Only the four
  numbers are kept (the redelivered movement supplies the rest), and at most
  `MAX_UNFLUSHED` of them, so a SKU's value stays small while commits lag.
- the first offset a movement id was applied at (a second table, `first_offset` here): the
  same movement at a *different* offset is an upstream duplicate or a replay, and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import Field

from streams.base import Record, UtcDatetime
from streams.holds import Hold
from streams.inventory import StockChanged, StockMovement

Verdict = Literal["applied", "redelivered", "duplicate"]
# (on_hand_delta, damaged_delta, on_hand_after, damaged_after[, in_transit_delta, in_transit_after])
# of an emitted ledger entry; the last two are absent in values written before transfers.
EntryNumbers = tuple[int, ...]
# Enough for minutes of commit lag on the busiest SKU; beyond it the oldest are dropped
# (counted), which can only matter if the worker crashes before its next commit.
MAX_UNFLUSHED = 2_000


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
    watermark: int = -1
    unflushed: dict[int, EntryNumbers] = Field(default_factory=dict)
    holds: dict[str, Hold] = Field(default_factory=dict)  # open, and resolved ones for a while

    def position(self, node: str) -> Position:
        return self.positions.get(node, Position())

    @property
    def total_on_hand(self) -> int:
        return sum(p.on_hand for p in self.positions.values())


@dataclass(frozen=True)
class Outcome:
    """What applying a movement decided: the new state, what to emit, what to remember."""

    stock: SkuStock
    emitted: list[StockChanged]
    verdict: Verdict
    remember_first_offset: int | None  # write to the first-offset table when not None
    dropped_unflushed: int = 0


def apply_movement(
    stock: SkuStock,
    movement: StockMovement,
    offset: int,
    first_offset: int | None,
    flushed_below: int,
) -> Outcome:
    """Apply `movement`, read at `offset`, to `stock` unless it was applied already.

    `first_offset` is the offset this movement id was first applied at (None if never);
    `flushed_below` is an offset below which every output of this partition reached Kafka.
    """
    if offset <= stock.watermark:
        numbers = stock.unflushed.get(offset)
        remember = offset if first_offset is None else None
        emitted = [entry(movement, offset, numbers)] if numbers else []
        return Outcome(stock, emitted, "redelivered", remember)
    if first_offset is not None and first_offset != offset:
        return Outcome(stock, [], "duplicate", None)
    before = stock.position(movement.node)
    after = _moved(before, movement)
    numbers = entry_numbers(before, after)
    unflushed = {o: n for o, n in stock.unflushed.items() if o >= flushed_below}
    unflushed[offset] = numbers
    dropped = max(0, len(unflushed) - MAX_UNFLUSHED)
    for old in sorted(unflushed)[:dropped]:
        del unflushed[old]
    new_stock = stock.model_copy(
        update={
            "positions": {**stock.positions, movement.node: after},
            "watermark": offset,
            "unflushed": unflushed,
        }
    )
    return Outcome(new_stock, [entry(movement, offset, numbers)], "applied", offset, dropped)


def entry_numbers(before: Position, after: Position) -> EntryNumbers:
    return (
        after.on_hand - before.on_hand, after.damaged - before.damaged, after.on_hand, after.damaged,
        after.in_transit - before.in_transit, after.in_transit,
    )


def entry(movement: StockMovement, offset: int, numbers: EntryNumbers) -> StockChanged:
    on_hand_delta, damaged_delta, on_hand_after, damaged_after = numbers[:4]
    in_transit_delta, in_transit_after = numbers[4:6] if len(numbers) >= 6 else (0, 0)
    variance = (
        movement.quantity - movement.expected
        if movement.kind == "transfer_in" and movement.expected is not None else None
    )
    return StockChanged(
        event_id=movement.event_id,
        occurred_at=movement.occurred_at,
        source_node=movement.node,
        movement_id=movement.event_id,
        sku=movement.sku,
        node=movement.node,
        kind=movement.kind,
        on_hand_delta=on_hand_delta,
        damaged_delta=damaged_delta,
        on_hand_after=on_hand_after,
        damaged_after=damaged_after,
        cause_event_id=movement.cause_event_id,
        cause_type=movement.cause_type,
        movement_offset=offset,
        in_transit_delta=in_transit_delta,
        in_transit_after=in_transit_after,
        transfer_id=movement.transfer_id,
        variance=variance,
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
