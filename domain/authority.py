"""The stock authority's one entry point: a record from a SKU's log, applied exactly once.

A SKU's log (`inventory.movements`) carries stock movements and hold commands in one order,
so a hold and a till sale of the same SKU can never race. Movements are made exactly once
by `domain.stock.apply_movement`; hold commands are idempotent by hold id, and the offset
watermark keeps a redelivered commit from taking units twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.holds import HoldCommand, decide_hold, expire_due, settle_conflict
from domain.stock import MAX_UNFLUSHED, Outcome, SkuStock, Verdict, apply_movement, entry
from streams.holds import HoldAnswered
from streams.inventory import StockChanged, StockMovement

SkuCommand = StockMovement | HoldCommand


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
    if isinstance(command, StockMovement):
        return _movement(stock, command, offset, first_offset, flushed_below)
    return _hold(stock, command, offset, flushed_below)


def _movement(
    stock: SkuStock, movement: StockMovement, offset: int, first_offset: int | None, flushed_below: int
) -> Applied:
    if offset <= stock.watermark or (first_offset is not None and first_offset != offset):
        out = apply_movement(stock, movement, offset, first_offset, flushed_below)
        return _from(out)
    now = movement.occurred_at
    expired = expire_due(stock, now, movement.event_id)  # due holds end before the movement counts
    out = apply_movement(expired.stock, movement, offset, first_offset, flushed_below)
    settled = settle_conflict(out.stock, movement.node, now, movement.event_id)
    conflict = bool(settled.answers)
    return Applied(
        settled.stock, out.emitted, expired.answers + settled.answers, out.verdict, out.remember_first_offset,
        out.dropped_unflushed, conflict,
    )


def _hold(stock: SkuStock, command: HoldCommand, offset: int, flushed_below: int) -> Applied:
    if offset <= stock.watermark:  # redelivered: answer with the state it left, re-emit its ledger entry
        decision = decide_hold(stock, command, command.occurred_at)
        numbers = stock.unflushed.get(offset)
        ledger = [entry(m, offset, numbers) for m in _commit_movements(stock, command, offset)] if numbers else []
        return Applied(stock, ledger, decision.answers, "redelivered")
    decision = decide_hold(stock, command, command.occurred_at)
    new = decision.stock
    ledger = []
    unflushed = {o: n for o, n in new.unflushed.items() if o >= flushed_below}
    for hold in decision.committed:
        before = stock.position(hold.node)
        after = new.position(hold.node)
        numbers = (after.on_hand - before.on_hand, 0, after.on_hand, after.damaged)
        unflushed[offset] = numbers
        ledger += [entry(m, offset, numbers) for m in _commit_movements(new, command, offset)]
    dropped = max(0, len(unflushed) - MAX_UNFLUSHED)
    for old in sorted(unflushed)[:dropped]:
        del unflushed[old]
    new = new.model_copy(update={"watermark": offset, "unflushed": unflushed})
    return Applied(new, ledger, decision.answers, "applied", None, dropped)


def _commit_movements(stock: SkuStock, command: HoldCommand, offset: int) -> list[StockMovement]:
    """The movement a hold commit amounts to, for its ledger entry."""
    hold = stock.holds.get(getattr(command, "hold_id", ""))
    if hold is None or hold.status != "committed":
        return []
    return [
        StockMovement(
            event_id=f"{command.event_id}:commit",
            occurred_at=command.occurred_at,
            source_node=hold.node,
            sku=stock.sku,
            node=hold.node,
            kind="hold_commit",
            quantity=-hold.quantity,
            cause_event_id=command.event_id,
            cause_type=command.type,
        )
    ]


def _from(out: Outcome) -> Applied:
    return Applied(out.stock, out.emitted, [], out.verdict, out.remember_first_offset, out.dropped_unflushed)
