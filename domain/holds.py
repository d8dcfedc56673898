"""Holds, the one reservation primitive: place, commit, release, expire. Pure.

The promise: at every node, the units held by open holds never exceed what is there to
promise (`on_hand - safety`, floored at zero), and each hold leaves `granted` exactly once.
Time is always the command's own time, so replaying the log decides the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.pricing.budgets import is_budget
from domain.stock import Position, SkuStock
from streams.holds import Answer, CommitHold, ExpireHolds, Hold, HoldAnswered, HoldStatus, PlaceHold, ReleaseHold

HoldCommand = PlaceHold | CommitHold | ReleaseHold | ExpireHolds
# A resolved hold is remembered this long, so a late second commit or release is answered
# with its final state; after that it is answered `unknown`.
RESOLVED_RETENTION = timedelta(days=7)
STORE_SALE_CONFLICT = "store_sale_conflict"


@dataclass(frozen=True)
class HoldDecision:
    stock: SkuStock
    answers: list[HoldAnswered] = field(default_factory=list)
    committed: list[Hold] = field(default_factory=list)  # units that left on hand
    unheld: list[tuple[str, int]] = field(default_factory=list)  # (node, units) that left without a hold


def decide_hold(stock: SkuStock, command: HoldCommand, now: datetime) -> HoldDecision:
    """Expire what is due at `now`, then apply `command`."""
    expired = expire_due(stock, now, command.event_id)
    match command:
        case ExpireHolds():
            return expired
        case PlaceHold():
            decision = _place(expired.stock, command, now)
        case CommitHold():
            decision = _commit(expired.stock, command, now)
        case ReleaseHold():
            decision = _release(expired.stock, command, now, command.reason)
    return HoldDecision(decision.stock, expired.answers + decision.answers, decision.committed, decision.unheld)


def _place(stock: SkuStock, command: PlaceHold, now: datetime) -> HoldDecision:
    known = stock.holds.get(command.hold_id)
    if known is not None and _replaced(stock, known, command):
        # A budget hold asked again for another amount, or after it ended: decided anew under its id
        if known.status == "granted":
            stock = _free(stock, known, "released", "replaced by the same checkout's new amount", now)
        stock = stock.model_copy(update={"holds": {h: x for h, x in stock.holds.items() if h != known.hold_id}})
        known = None
    if known is not None:  # the same hold asked again: answer what it is now
        return HoldDecision(stock, [_answer(stock, known, known.status, command.event_id, now)])
    position = stock.position(command.node)
    reason = _refusal(position, command, now)
    status: HoldStatus = "rejected" if reason else "granted"
    hold = Hold(
        hold_id=command.hold_id, order_id=command.order_id, node=command.node, quantity=command.quantity,
        expires_at=command.expires_at, status=status, reason=reason, resolved_at=now if reason else None,
    )
    held = position.held + (0 if reason else command.quantity)
    stock = _with(stock, command.node, position.model_copy(update={"held": held}), hold)
    return HoldDecision(stock, [_answer(stock, hold, status, command.event_id, now)])


def _replaced(stock: SkuStock, known: Hold, command: PlaceHold) -> bool:
    """Budget holds only: a checkout asked again for another amount, or after its hold ended (released,
    expired) is decided anew under the same id; the same amount refused stays refused (a retry meets the
    same answer), and a committed one stays sold."""
    if not is_budget(stock.sku):
        return False
    return known.status in ("released", "expired") or (
        known.status in ("granted", "rejected") and known.quantity != command.quantity)


def _refusal(position: Position, command: PlaceHold, now: datetime) -> str | None:
    if command.expires_at <= now:
        return "expired on arrival: expires_at is not after the command's time"
    if command.quantity > position.atp:
        return f"insufficient stock: {position.atp} available to promise, {command.quantity} requested"
    return None


def _commit(stock: SkuStock, command: CommitHold, now: datetime) -> HoldDecision:
    hold = stock.holds.get(command.hold_id)
    budget = is_budget(stock.sku)
    if budget and hold is not None and hold.status == "granted" and command.quantity not in (None, hold.quantity):
        return _commit_budget(stock, hold, command, now)
    if hold is None or hold.status != "granted":
        # A budget's committed hold met again under another command id: the same stamp spent twice.
        again = hold is not None and hold.status == "committed" and not budget
        if command.node is None or command.quantity is None or again:
            return HoldDecision(stock, [_final(stock, hold, command.hold_id, command.sku, command.event_id, now)])
        # The goods left although the promise had ended: on hand follows the shelf.
        position = stock.position(command.node)
        after = position.model_copy(update={"on_hand": position.on_hand - command.quantity})
        stock = stock.model_copy(update={"positions": {**stock.positions, command.node: after}})
        if budget:  # a budget spent past its holds is shown below zero; the other holds keep their promise
            answer = _final(stock, hold, command.hold_id, command.sku, command.event_id, now)
            return HoldDecision(stock, [answer], unheld=[(command.node, command.quantity)])
        settled = settle_conflict(stock, command.node, now, command.event_id)
        answer = _final(settled.stock, hold, command.hold_id, command.sku, command.event_id, now)
        return HoldDecision(settled.stock, [answer, *settled.answers], unheld=[(command.node, command.quantity)])
    position = stock.position(hold.node)
    after = position.model_copy(
        update={"on_hand": position.on_hand - hold.quantity, "held": position.held - hold.quantity}
    )
    done = hold.model_copy(update={"status": "committed", "resolved_at": now, "reason": command.cause})
    stock = _with(stock, hold.node, after, done)
    return HoldDecision(stock, [_answer(stock, done, "committed", command.event_id, now)], [done])


def _commit_budget(stock: SkuStock, hold: Hold, command: CommitHold, now: datetime) -> HoldDecision:
    """A budget hold committed in part (a store's lease, spent sale by sale offline) or beyond its
    amount (the excess is taken from the account as spent past its hold)."""
    assert command.quantity is not None
    spent = command.quantity
    position = stock.position(hold.node)
    if spent < hold.quantity:
        after = position.model_copy(update={"on_hand": position.on_hand - spent, "held": position.held - spent})
        smaller = hold.model_copy(update={"quantity": hold.quantity - spent})
        stock = _with(stock, hold.node, after, smaller)
        return HoldDecision(stock, [_answer(stock, smaller, "granted", command.event_id, now)], [smaller])
    after = position.model_copy(update={"on_hand": position.on_hand - spent, "held": position.held - hold.quantity})
    done = hold.model_copy(update={"status": "committed", "resolved_at": now, "reason": command.cause})
    stock = _with(stock, hold.node, after, done)
    return HoldDecision(stock, [_answer(stock, done, "committed", command.event_id, now)], [done])


def _release(stock: SkuStock, command: ReleaseHold, now: datetime, reason: str) -> HoldDecision:
    hold = stock.holds.get(command.hold_id)
    if hold is None or hold.status != "granted":
        return HoldDecision(stock, [_final(stock, hold, command.hold_id, command.sku, command.event_id, now)])
    if command.quantity is not None and command.quantity < hold.quantity:  # part of the promise is off
        position = stock.position(hold.node)
        after = position.model_copy(update={"held": position.held - command.quantity})
        smaller = hold.model_copy(update={"quantity": hold.quantity - command.quantity})
        stock = _with(stock, hold.node, after, smaller)
        return HoldDecision(stock, [_answer(stock, smaller, "granted", command.event_id, now)])
    stock = _free(stock, hold, "released", reason, now)
    return HoldDecision(stock, [_answer(stock, stock.holds[hold.hold_id], "released", command.event_id, now)])


def expire_due(stock: SkuStock, now: datetime, command_id: str) -> HoldDecision:
    """Expire open holds whose time to live ended; forget resolved ones past retention."""
    answers = []
    forget_before = now - RESOLVED_RETENTION
    due, forgotten = [], False
    for h in stock.holds.values():  # one pass: every command of the SKU's log comes through here
        if h.status == "granted":
            if h.expires_at <= now:
                due.append(h)
        elif h.resolved_at is not None and h.resolved_at < forget_before:
            forgotten = True
    for hold in sorted(due, key=lambda h: (h.expires_at, h.hold_id)):
        stock = _free(stock, hold, "expired", "time to live ended", now)
        answers.append(_answer(stock, stock.holds[hold.hold_id], "expired", command_id, now))
    if forgotten:
        keep = {hid: h for hid, h in stock.holds.items() if h.resolved_at is None or h.resolved_at >= forget_before}
        stock = stock.model_copy(update={"holds": keep})
    return HoldDecision(stock, answers)


def settle_conflict(stock: SkuStock, node: str, now: datetime, cause_id: str) -> HoldDecision:
    """After a till sale left a node with less than its holds promise: release the newest
    holds until the rest are covered again (policy in docs/inventory.md), never silently."""
    answers = []
    open_holds = sorted(
        (h for h in stock.holds.values() if h.node == node and h.status == "granted"),
        key=lambda h: (h.expires_at, h.hold_id),
        reverse=True,
    )
    for hold in open_holds:
        position = stock.position(node)
        if position.held <= max(0, position.on_hand - position.safety):
            break
        stock = _free(stock, hold, "released", STORE_SALE_CONFLICT, now)
        answers.append(_answer(stock, stock.holds[hold.hold_id], "released", cause_id, now))
    return HoldDecision(stock, answers)


def _free(stock: SkuStock, hold: Hold, status: HoldStatus, reason: str, now: datetime) -> SkuStock:
    position = stock.position(hold.node)
    after = position.model_copy(update={"held": position.held - hold.quantity})
    done = hold.model_copy(update={"status": status, "reason": reason, "resolved_at": now})
    return _with(stock, hold.node, after, done)


def _with(stock: SkuStock, node: str, position: Position, hold: Hold) -> SkuStock:
    return stock.model_copy(
        update={"positions": {**stock.positions, node: position}, "holds": {**stock.holds, hold.hold_id: hold}}
    )


def _final(
    stock: SkuStock, hold: Hold | None, hold_id: str, sku: str, command_id: str, now: datetime
) -> HoldAnswered:
    """A commit or release of a hold that is not open: answered with its final state."""
    if hold is None:
        return HoldAnswered(
            event_id=f"{command_id}:{hold_id}"[:160], occurred_at=now,
            source_node="hq", hold_id=hold_id, order_id="", sku=sku, node="", quantity=0,
            answer="unknown", reason="no such hold (never placed, or resolved too long ago)", atp_after=0,
            command_id=command_id,
        )
    return _answer(stock, hold, hold.status, command_id, now)


def current_answer(stock: SkuStock, hold_id: str, command_id: str, now: datetime) -> HoldAnswered:
    """The hold's state as it is now: the answer to a command seen before (never re-decided)."""
    return _final(stock, stock.holds.get(hold_id), hold_id, stock.sku, command_id, now)


def _answer(stock: SkuStock, hold: Hold, answer: Answer, command_id: str, now: datetime) -> HoldAnswered:
    return HoldAnswered(
        event_id=f"{command_id}:{hold.hold_id}"[:160],
        occurred_at=now,
        source_node=hold.node,
        hold_id=hold.hold_id,
        order_id=hold.order_id,
        sku=stock.sku,
        node=hold.node,
        quantity=hold.quantity,
        answer=answer,
        reason=hold.reason,
        atp_after=stock.position(hold.node).atp,
        command_id=command_id,
    )
