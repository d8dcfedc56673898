"""The stock authority's one entry point: a record from a SKU's log, applied exactly once.

A SKU's log (`inventory.movements`) carries stock movements and hold commands in one order,
so a hold and a till sale of the same SKU can never race. Movements are made exactly once
by `domain.stock.apply_movement`; hold commands are idempotent by hold id, and the offset
watermark keeps a redelivered commit from taking units twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.holds import (
    STORE_SALE_CONFLICT,
    HoldCommand,
    answers_caused_at,
    current_answer,
    decide_hold,
    expire_due,
    settle_conflict,
    stamp_resolved,
)
from domain.stock import MAX_UNFLUSHED, EntryNumbers, Outcome, SkuStock, Verdict, apply_movement, entry, entry_numbers
from streams.holds import CommitHold, HoldAnswered, PlaceHolds, ReleaseHold
from streams.inventory import StockChanged, StockMovement

SkuCommand = StockMovement | HoldCommand | PlaceHolds


@dataclass(frozen=True)
class Applied:
    stock: SkuStock
    ledger: list[StockChanged]
    answers: list[HoldAnswered] = field(default_factory=list)
    verdict: Verdict = "applied"
    remember_first_offset: int | None = None
    dropped_unflushed: int = 0
    conflict: bool = False


def apply(
    stock: SkuStock, command: SkuCommand, offset: int, first_offset: int | None, flushed_below: int
) -> Applied:
    """`first_offset`: where this command's id was first applied (movements, commits and
    releases are deduplicated by id; a place is idempotent by its hold id)."""
    if isinstance(command, StockMovement):
        return _movement(stock, command, offset, first_offset, flushed_below)
    if isinstance(command, PlaceHolds):
        return _places(stock, command, offset, flushed_below)
    return _hold(stock, command, offset, first_offset, flushed_below)


def remembers_first_offset(command: SkuCommand) -> bool:
    """Commands whose id goes into the first-offset table (a replayed one is a duplicate)."""
    return isinstance(command, StockMovement | CommitHold | ReleaseHold)


def _movement(
    stock: SkuStock, movement: StockMovement, offset: int, first_offset: int | None, flushed_below: int
) -> Applied:
    if offset <= stock.watermark or (first_offset is not None and first_offset != offset):
        out = apply_movement(stock, movement, offset, first_offset, flushed_below)
        again = answers_caused_at(stock, offset, movement.event_id, movement.occurred_at)
        return Applied(out.stock, out.emitted, again if offset <= stock.watermark else [], out.verdict,
                       out.remember_first_offset, out.dropped_unflushed)
    now = movement.occurred_at
    expired = expire_due(stock, now, movement.event_id)  # due holds end before the movement counts
    out = apply_movement(expired.stock, movement, offset, first_offset, flushed_below)
    settled = settle_conflict(out.stock, movement.node, now, movement.event_id)
    conflict = bool(settled.answers)
    answers = expired.answers + settled.answers
    return Applied(
        stamp_resolved(settled.stock, answers, offset), out.emitted, answers, out.verdict,
        out.remember_first_offset, out.dropped_unflushed, conflict,
    )


def _hold(
    stock: SkuStock, command: HoldCommand, offset: int, first_offset: int | None, flushed_below: int
) -> Applied:
    dedupe = remembers_first_offset(command)
    if offset <= stock.watermark:  # redelivered: answer with the state it left, re-emit its ledger entry
        numbers = stock.unflushed.get(offset)
        ledger = [entry(_ledger_movement(stock, command, numbers), offset, numbers)] if numbers else []
        remember = offset if dedupe and first_offset is None else None
        own = _answers_now(stock, command)
        caused = [
            a for a in answers_caused_at(stock, offset, command.event_id, command.occurred_at)
            if a.hold_id not in {o.hold_id for o in own}
        ]
        return Applied(stock, ledger, own + caused, "redelivered", remember)
    if dedupe and first_offset is not None and first_offset != offset:  # the same command again
        return Applied(stock, [], _answers_now(stock, command), "duplicate")
    decision = decide_hold(stock, command, command.occurred_at)
    new = decision.stock
    ledger = []
    unflushed = {o: n for o, n in new.unflushed.items() if o >= flushed_below}
    moved_node = decision.committed[0].node if decision.committed else (
        decision.unheld[0][0] if decision.unheld else None
    )
    if moved_node is not None:
        before = stock.position(moved_node)
        after = new.position(moved_node)
        numbers = entry_numbers(before, after)
        unflushed[offset] = numbers
        ledger.append(entry(_ledger_movement(new, command, numbers), offset, numbers))
    dropped = max(0, len(unflushed) - MAX_UNFLUSHED)
    for old in sorted(unflushed)[:dropped]:
        del unflushed[old]
    new = stamp_resolved(new, decision.answers, offset)
    new = new.model_copy(update={"watermark": offset, "unflushed": unflushed})
    remember = offset if dedupe else None
    conflict = any(a.reason == STORE_SALE_CONFLICT for a in decision.answers)
    return Applied(new, ledger, decision.answers, "applied", remember, dropped, conflict)


def _places(stock: SkuStock, batch: PlaceHolds, offset: int, flushed_below: int) -> Applied:
    """A batch of places: each decided in turn, exactly as if each were its own record."""
    first = batch.holds[0]
    if offset <= stock.watermark:  # redelivered: every place answered with its hold's state now
        own = [current_answer(stock, p.hold_id, p.event_id, p.occurred_at) for p in batch.holds]
        mine = {p.hold_id for p in batch.holds}
        caused = answers_caused_at(stock, offset, first.event_id, first.occurred_at)
        caused = [a for a in caused if a.hold_id not in mine]
        return Applied(stock, [], own + caused, "redelivered")
    answers: list[HoldAnswered] = []
    new = stock
    for place in batch.holds:
        decision = decide_hold(new, place, place.occurred_at)
        new = decision.stock
        answers += decision.answers
    unflushed = {o: n for o, n in new.unflushed.items() if o >= flushed_below}
    new = stamp_resolved(new, answers, offset)
    new = new.model_copy(update={"watermark": offset, "unflushed": unflushed})
    return Applied(new, [], answers, "applied")


def _answers_now(stock: SkuStock, command: HoldCommand) -> list[HoldAnswered]:
    """A command seen before is answered with its hold's state now, never decided again
    (a partial release decided twice would release twice)."""
    hold_id = getattr(command, "hold_id", None)
    return [current_answer(stock, hold_id, command.event_id, command.occurred_at)] if hold_id else []


def _ledger_movement(stock: SkuStock, command: HoldCommand, numbers: EntryNumbers) -> StockMovement:
    """The movement a commit amounts to: of its open hold, or of units that left without one."""
    hold = stock.holds.get(getattr(command, "hold_id", ""))
    held = hold is not None and hold.status == "committed"
    node = hold.node if held and hold is not None else getattr(command, "node", None) or ""
    return StockMovement(
        event_id=f"{command.event_id}:commit",
        occurred_at=command.occurred_at,
        source_node=node,
        sku=stock.sku,
        node=node,
        kind="hold_commit" if held else "unheld_commit",
        quantity=numbers[0],
        cause_event_id=command.event_id,
        cause_type=command.type,
    )


def _from(out: Outcome) -> Applied:
    return Applied(out.stock, out.emitted, [], out.verdict, out.remember_first_offset, out.dropped_unflushed)
