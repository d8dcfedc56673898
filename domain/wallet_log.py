"""A wallet's log: each command applied once, whatever Kafka redelivers. Pure.

The wallet table is keyed by customer id and fed by `loyalty.commands` keyed the same way.
A command at or below the wallet's `applied_offset` is a redelivery: it is answered with the
state it left and the entries it posted are sent again (kept for the wallet's last
`KEEP_RECENT` postings, however far apart in the partition), never posted twice. Causes
(lot ids, return lines, request ids) deduplicate commands that arrive again at a new offset
(producer retries, replays).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from domain.ids import derived_id
from domain.wallet import Decision, Entry, PointsHold, Wallet, capture, clawback, earn, hold, tick, void
from streams.loyalty import (
    CapturePoints,
    ClawbackPoints,
    EarnPoints,
    HoldPoints,
    LedgerLine,
    PointsAnswered,
    PointsPosted,
    VoidPoints,
)

WalletCommand = EarnPoints | ClawbackPoints | HoldPoints | CapturePoints | VoidPoints
KEEP_RECENT = 16


@dataclass(frozen=True)
class Applied:
    wallet: Wallet
    entries: list[Entry] = field(default_factory=list)
    answer: PointsAnswered | None = None
    verdict: Literal["applied", "redelivered"] = "applied"
    note: str | None = None


def apply(wallet: Wallet, command: WalletCommand, offset: int) -> Applied:
    at = command.occurred_at
    if offset <= wallet.applied_offset:
        known = wallet.holds.get(getattr(command, "request_id", ""))
        return Applied(wallet, wallet.recent.get(offset, []), _answer(wallet, command, known), "redelivered")
    decision = _decide(wallet, command, at)
    recent = dict(decision.wallet.recent)
    if decision.entries:
        recent[offset] = decision.entries
    recent = {o: recent[o] for o in sorted(recent)[-KEEP_RECENT:]}  # this wallet's last postings
    new = decision.wallet.model_copy(update={"applied_offset": offset, "recent": recent})
    return Applied(new, decision.entries, _answer(new, command, decision.answer), "applied", decision.note)


def _decide(wallet: Wallet, command: WalletCommand, at: datetime) -> Decision:
    match command:
        case EarnPoints():
            lifetime = timedelta(seconds=command.lifetime_s) if command.lifetime_s else None
            window = timedelta(seconds=command.return_window_s)
            return earn(wallet, command.lot_id, command.points, at, window, lifetime)
        case ClawbackPoints():
            return clawback(wallet, command.return_line_id, command.lot_id, command.points, at)
        case HoldPoints():
            return hold(wallet, command.request_id, command.points, at, command.expires_at)
        case CapturePoints():
            return capture(wallet, command.request_id, at)
        case VoidPoints():
            return void(wallet, command.request_id, at, command.reason)
    return tick(wallet, at)


def _answer(wallet: Wallet, command: WalletCommand, held: PointsHold | None) -> PointsAnswered | None:
    if not isinstance(command, HoldPoints | CapturePoints | VoidPoints):
        return None
    return PointsAnswered(
        event_id=derived_id(command.event_id, "answer"),
        occurred_at=command.occurred_at,
        source_node=command.source_node,
        customer_id=command.customer_id,
        request_id=command.request_id,
        command_id=command.event_id,
        status=held.status if held else "unknown",
        points=held.points if held else 0,
        reason=held.reason if held else "no such hold (never requested, or resolved too long ago)",
        available_after=wallet.balance("available"),
    )


def posting(command: WalletCommand, applied: Applied) -> PointsPosted | None:
    """The ledger record of what `command` posted (again, when redelivered), with the balances."""
    if not applied.entries:
        return None
    wallet = applied.wallet
    return PointsPosted(
        event_id=derived_id(command.event_id, "posted"), occurred_at=command.occurred_at, source_node="hq",
        customer_id=command.customer_id, command_id=command.event_id,
        entries=[LedgerLine(**e.model_dump(include=set(LedgerLine.model_fields))) for e in applied.entries],
        pending=wallet.balance("pending"), available=wallet.balance("available"), held=wallet.balance("held"),
    )
