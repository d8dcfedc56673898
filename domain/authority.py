"""The stock authority's one decision: a command from a SKU's log, decided against its state. Pure.

A SKU's log (`inventory.movements`) carries stock movements and hold commands in one order,
so a hold and a till sale of the same SKU can never race. This module sees state and
commands only: which record is new, redelivered or a duplicate (offsets, watermarks, ids
seen) is the runtime's bookkeeping around it (`runtime/once.py`, `tables/stock_once.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.holds import (
    STORE_SALE_CONFLICT,
    HoldCommand,
    current_answer,
    decide_hold,
    expire_due,
    settle_conflict,
)
from domain.pricing.budgets import is_budget
from domain.stock import EntryNumbers, SkuStock, entry_numbers, move
from streams.holds import CommitHold, HoldAnswered, PlaceHolds, ReleaseHold
from streams.inventory import StockMovement

SkuCommand = StockMovement | HoldCommand | PlaceHolds


@dataclass(frozen=True)
class Decision:
    """What a new command did: the new state, the movement to book in the ledger with its
    numbers (None: stock did not move), the hold answers, and whether a till sale took units
    that holds had promised."""

    stock: SkuStock
    booked: StockMovement | None = None
    numbers: EntryNumbers | None = None
    answers: list[HoldAnswered] = field(default_factory=list)
    conflict: bool = False


def decide(stock: SkuStock, command: SkuCommand) -> Decision:
    """Apply a command seen for the first time. Holds due by the command's time expire first."""
    if isinstance(command, StockMovement):
        return _movement(stock, command)
    if isinstance(command, PlaceHolds):
        return _places(stock, command)
    return _hold(stock, command)


def again(stock: SkuStock, command: SkuCommand) -> list[HoldAnswered]:
    """A command seen before is answered with its holds' state now, never decided again
    (a partial release decided twice would release twice)."""
    if isinstance(command, PlaceHolds):
        return [current_answer(stock, p.hold_id, p.event_id, p.occurred_at) for p in command.holds]
    hold_id = getattr(command, "hold_id", None)
    return [current_answer(stock, hold_id, command.event_id, command.occurred_at)] if hold_id else []


def dedupes_by_id(command: SkuCommand) -> bool:
    """Commands whose id is remembered (the same id again is a duplicate); a place is
    idempotent by its hold id instead."""
    return isinstance(command, StockMovement | CommitHold | ReleaseHold)


def cause(command: SkuCommand) -> tuple[str, datetime]:
    """The id and time answers about this command carry."""
    first = command.holds[0] if isinstance(command, PlaceHolds) else command
    return first.event_id, first.occurred_at


def booked(stock: SkuStock, command: SkuCommand, numbers: EntryNumbers, held: bool | None = None) -> StockMovement:
    """The movement a command amounts to in the ledger: a movement itself, or what a commit took,
    of its hold (`hold_commit`; a budget hold committed in part stays open) or of units that left
    without one (`unheld_commit`). `held` says which when the decision knows; else the hold's state."""
    if isinstance(command, StockMovement):
        return command
    hold = stock.holds.get(getattr(command, "hold_id", ""))
    if held is None:
        held = hold is not None and (hold.status == "committed" or (is_budget(stock.sku) and hold.status == "granted"))
    node = hold.node if held and hold is not None else getattr(command, "node", None) or (hold.node if hold else "")
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


def _movement(stock: SkuStock, movement: StockMovement) -> Decision:
    now = movement.occurred_at
    expired = expire_due(stock, now, movement.event_id)  # due holds end before the movement counts
    moved, numbers = move(expired.stock, movement)
    if is_budget(movement.sku):  # a budget account below its holds just has nothing left to promise
        return Decision(moved, movement, numbers, expired.answers)
    settled = settle_conflict(moved, movement.node, now, movement.event_id)
    return Decision(settled.stock, movement, numbers, expired.answers + settled.answers, bool(settled.answers))


def _hold(stock: SkuStock, command: HoldCommand) -> Decision:
    decision = decide_hold(stock, command, command.occurred_at)
    new = decision.stock
    conflict = any(a.reason == STORE_SALE_CONFLICT for a in decision.answers)
    node = decision.committed[0].node if decision.committed else (
        decision.unheld[0][0] if decision.unheld else None
    )
    if node is None:
        return Decision(new, None, None, decision.answers, conflict)
    numbers = entry_numbers(stock.position(node), new.position(node))
    return Decision(new, booked(new, command, numbers, bool(decision.committed)), numbers, decision.answers, conflict)


def _places(stock: SkuStock, batch: PlaceHolds) -> Decision:
    """A batch of places: each decided in turn, exactly as if each were its own record."""
    answers: list[HoldAnswered] = []
    new = stock
    for place in batch.holds:
        decision = decide_hold(new, place, place.occurred_at)
        new = decision.stock
        answers += decision.answers
    return Decision(new, None, None, answers)
