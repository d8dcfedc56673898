"""The stock authority inside the runtime's exactly-once bookkeeping: one record of a SKU's log, applied once.

`domain.authority` decides from state and command; `runtime.once` says whether the record at
`offset` is new, redelivered or a duplicate, and keeps what a redelivery needs, stored in the
SKU's value: the watermark, the unflushed ledger numbers, and for each hold the offset of the
record that resolved it (so a redelivered record answers about it again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.authority import SkuCommand, again, booked, cause, decide, dedupes_by_id
from domain.holds import current_answer
from domain.stock import EntryNumbers, SkuStock
from runtime.once import Verdict, remembered_offset, unflushed_after, verdict
from streams.holds import HoldAnswered
from streams.inventory import StockChanged, StockMovement


@dataclass(frozen=True)
class Applied:
    stock: SkuStock
    ledger: list[StockChanged]
    answers: list[HoldAnswered] = field(default_factory=list)
    verdict: Verdict = "applied"
    remember_first_offset: int | None = None  # write to the first-offset table when not None
    dropped_unflushed: int = 0
    conflict: bool = False


def apply(
    stock: SkuStock, command: SkuCommand, offset: int, first_offset: int | None, flushed_below: int
) -> Applied:
    """`first_offset`: where this command's id was first applied (None if never, or if the
    command is not deduplicated by id); `flushed_below`: every ledger entry of this partition
    below that offset is acknowledged by Kafka."""
    deduped = dedupes_by_id(command)
    seen = verdict(stock.watermark, offset, first_offset if deduped else None)
    remember = remembered_offset(seen, deduped, first_offset, offset)
    if seen == "duplicate":
        return Applied(stock, [], again(stock, command), seen)
    if seen == "redelivered":  # answer with the state it left, re-emit its ledger entry
        numbers = stock.unflushed.get(offset)
        ledger = [entry(booked(stock, command, numbers), offset, numbers)] if numbers else []
        own = again(stock, command)
        mine = {a.hold_id for a in own}
        caused = [a for a in _answers_resolved_at(stock, offset, command) if a.hold_id not in mine]
        return Applied(stock, ledger, own + caused, seen, remember)
    decision = decide(stock, command)
    unflushed, dropped = unflushed_after(stock.unflushed, flushed_below, offset, decision.numbers)
    new = _stamp_resolved(decision.stock, decision.answers, offset)
    new = new.model_copy(update={"watermark": offset, "unflushed": unflushed})
    ledger = []
    if decision.booked is not None and decision.numbers is not None:
        ledger.append(entry(decision.booked, offset, decision.numbers))
    return Applied(new, ledger, decision.answers, seen, remember, dropped, decision.conflict)


def entry(movement: StockMovement, offset: int, numbers: EntryNumbers) -> StockChanged:
    """The ledger entry of `movement`, read at `offset` (its id in the ledger)."""
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


def _answers_resolved_at(stock: SkuStock, offset: int, command: SkuCommand) -> list[HoldAnswered]:
    """The answers about holds the record at `offset` resolved, again (for a redelivered record)."""
    command_id, now = cause(command)
    return [current_answer(stock, hold.hold_id, command_id, now) for hold in stock.holds.values()
            if hold.resolved_offset == offset]


def _stamp_resolved(stock: SkuStock, answers: list[HoldAnswered], offset: int) -> SkuStock:
    """Mark the holds these answers resolved with the offset of the record that resolved them."""
    resolved = {
        a.hold_id for a in answers
        if a.answer in ("committed", "released", "expired") and a.hold_id in stock.holds
        and stock.holds[a.hold_id].resolved_offset is None
    }
    if not resolved:
        return stock
    holds = dict(stock.holds)
    for hold_id in resolved:
        holds[hold_id] = holds[hold_id].model_copy(update={"resolved_offset": offset})
    return stock.model_copy(update={"holds": holds})
