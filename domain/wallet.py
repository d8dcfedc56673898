"""A customer's loyalty wallet as a double-entry ledger. Pure: no Kafka, no Faust, no clock.

Every change is an `Entry` moving points from one account to another, with an id derived
from its cause (the purchase line, the return line, the redemption request, the lot), so the
same cause can never post twice, however often it is delivered or replayed. The customer's
accounts are `pending` (earned, inside the return window), `available` and `held` (promised
to a redemption in flight); the program's are `issued`, `redeemed`, `expired` and
`clawed_back`. An account's balance is the sum of its entries; the customer's never go below
zero (the decisions refuse, never overdraw).

Points live in lots, one per purchase line, oldest burned first: a redemption hold takes from
the oldest available lots, expiry burns what is left of a lot past its `expires_at`, a return
claws back from the lot of the returned line (still pending, or available if it matured).
Time is always the command's own time, so replaying the log decides the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from streams.base import Record, UtcDatetime

CustomerAccount = Literal["pending", "available", "held"]
ProgramAccount = Literal["program:issued", "program:redeemed", "program:expired", "program:clawed_back"]
Account = CustomerAccount | ProgramAccount
HoldStatus = Literal["granted", "declined", "captured", "voided", "expired"]
CUSTOMER_ACCOUNTS: tuple[CustomerAccount, ...] = ("pending", "available", "held")
# Causes are remembered this long after they posted, so a replay inside the ingest topics'
# retention (30 days) is recognised; older causes cannot be delivered again.
CAUSE_RETENTION = timedelta(days=400)


class Lot(Record):
    """Points of one purchase line: `points` is what is left of them."""

    lot_id: str
    points: int = Field(ge=0)
    earned_at: UtcDatetime
    matures_at: UtcDatetime
    expires_at: UtcDatetime | None = None


class PointsHold(Record):
    request_id: str
    points: int = Field(gt=0)
    expires_at: UtcDatetime
    status: HoldStatus
    reason: str | None = None
    taken: dict[str, int] = Field(default_factory=dict)  # lot id -> points taken from it
    resolved_at: UtcDatetime | None = None


class Entry(Record):
    """One posting: `points` leave `debit` and arrive in `credit`."""

    entry_id: str
    customer_id: str
    debit: str
    credit: str
    points: int = Field(gt=0)
    cause: Literal["earn", "mature", "clawback", "hold", "capture", "void", "expire_hold", "expire_lot", "merge"]
    cause_id: str
    at: UtcDatetime


class Wallet(Record):
    customer_id: str
    pending: dict[str, Lot] = Field(default_factory=dict)
    available: dict[str, Lot] = Field(default_factory=dict)
    holds: dict[str, PointsHold] = Field(default_factory=dict)
    balances: dict[str, int] = Field(default_factory=dict)  # customer accounts only
    seen: dict[str, UtcDatetime] = Field(default_factory=dict)  # cause id -> when it happened
    # Causes before this moment were forgotten: one from before it cannot be told apart from a
    # repeat, so it is refused rather than risk a second credit.
    forgotten_before: UtcDatetime | None = None
    # Exactly once on an at-least-once log: the last offset of the wallet's log applied, and the
    # entries the last few offsets posted, so a redelivered command re-sends them, not re-posts.
    applied_offset: int = -1
    recent: dict[int, list[Entry]] = Field(default_factory=dict)

    def balance(self, account: CustomerAccount) -> int:
        return self.balances.get(account, 0)


@dataclass(frozen=True)
class Decision:
    wallet: Wallet
    entries: list[Entry] = field(default_factory=list)
    answer: PointsHold | None = None  # for hold, capture and void: the hold's state after it
    note: str | None = None  # what could not be done, e.g. points already spent on a clawback


def post(wallet: Wallet, entries: list[Entry]) -> Wallet:
    """Apply entries to the customer's balances (program accounts are not kept here)."""
    balances = dict(wallet.balances)
    for e in entries:
        if e.debit in CUSTOMER_ACCOUNTS:
            balances[e.debit] = balances.get(e.debit, 0) - e.points
        if e.credit in CUSTOMER_ACCOUNTS:
            balances[e.credit] = balances.get(e.credit, 0) + e.points
    if any(v < 0 for v in balances.values()):
        raise ValueError(f"{wallet.customer_id}: a posting would overdraw {balances}")
    return wallet.model_copy(update={"balances": balances})


def _entry(w: Wallet, cause: str, cause_id: str, debit: str, credit: str, points: int, at: datetime) -> Entry:
    return Entry(
        entry_id=f"{cause}:{cause_id}", customer_id=w.customer_id, debit=debit, credit=credit, points=points,
        cause=cause, cause_id=cause_id, at=at,  # type: ignore[arg-type]
    )


def tick(wallet: Wallet, now: datetime) -> Decision:
    """What time alone does: pending lots mature, holds and lots expire, old causes are forgotten."""
    entries: list[Entry] = []
    pending, available, holds = dict(wallet.pending), dict(wallet.available), dict(wallet.holds)
    for lot in sorted(wallet.pending.values(), key=lambda x: (x.matures_at, x.lot_id)):
        if lot.matures_at <= now:
            del pending[lot.lot_id]
            available[lot.lot_id] = lot
            if lot.points:
                entries.append(_entry(wallet, "mature", lot.lot_id, "pending", "available", lot.points, now))
    for hold in sorted(wallet.holds.values(), key=lambda h: (h.expires_at, h.request_id)):
        if hold.status == "granted" and hold.expires_at <= now:
            available = _restore(available, hold.taken)
            holds[hold.request_id] = hold.model_copy(
                update={"status": "expired", "reason": "time to live ended", "resolved_at": now}
            )
            entries.append(_entry(wallet, "expire_hold", hold.request_id, "held", "available", hold.points, now))
    for lot in sorted(available.values(), key=lambda x: (x.earned_at, x.lot_id)):
        if lot.expires_at is not None and lot.expires_at <= now and lot.points:
            available[lot.lot_id] = lot.model_copy(update={"points": 0})
            cause_id = f"{lot.lot_id}@{now.isoformat()}"  # a lot can expire again after a hold gave points back
            entries.append(_entry(wallet, "expire_lot", cause_id, "available", "program:expired", lot.points, now))
    available = {k: v for k, v in available.items() if v.points or k in _lots_in_holds(holds)}
    cutoff = now - CAUSE_RETENTION
    update: dict[str, object] = {"pending": pending, "available": available, "holds": holds}
    if any(at < cutoff for at in wallet.seen.values()):
        update["seen"] = {k: at for k, at in wallet.seen.items() if at >= cutoff}
        update["forgotten_before"] = max(cutoff, wallet.forgotten_before or cutoff)
    update["holds"] = {k: h for k, h in holds.items() if h.resolved_at is None or h.resolved_at >= cutoff}
    w = wallet.model_copy(update=update)
    return Decision(post(w, entries), entries)


def earn(
    wallet: Wallet, lot_id: str, points: int, at: datetime, return_window: timedelta, lifetime: timedelta | None
) -> Decision:
    """Credit a purchase line's points as pending, once per line."""
    w = tick(wallet, at)
    if _too_old(w.wallet, at):
        return Decision(w.wallet, w.entries, note="older than the wallet remembers: not credited (may be a repeat)")
    if points <= 0 or lot_id in w.wallet.seen or lot_id in w.wallet.pending or lot_id in w.wallet.available:
        return Decision(w.wallet, w.entries, note="already credited" if points > 0 else "no points")
    lot = Lot(lot_id=lot_id, points=points, earned_at=at, matures_at=at + return_window,
              expires_at=at + lifetime if lifetime else None)
    entry = _entry(w.wallet, "earn", lot_id, "program:issued", "pending", points, at)
    wallet2 = w.wallet.model_copy(update={"pending": {**w.wallet.pending, lot_id: lot},
                                          "seen": {**w.wallet.seen, lot_id: at}})
    posted = post(wallet2, [entry])
    if return_window <= timedelta(0):  # no return window: available at once
        matured = tick(posted, at)
        return Decision(matured.wallet, [*w.entries, entry, *matured.entries])
    return Decision(posted, [*w.entries, entry])


def clawback(wallet: Wallet, return_line_id: str, lot_id: str, points: int, at: datetime) -> Decision:
    """Take back the points of a returned line from its lot (pending first, as it is), once."""
    w = tick(wallet, at)
    if return_line_id in w.wallet.seen or _too_old(w.wallet, at):
        return Decision(w.wallet, w.entries, note="already clawed back, or older than the wallet remembers")
    seen = {**w.wallet.seen, return_line_id: at}
    for account, lots in (("pending", w.wallet.pending), ("available", w.wallet.available)):
        lot = lots.get(lot_id)
        if lot is None:
            continue
        take = min(points, lot.points)
        note = None if take == points else f"{points - take} of {points} points were already spent or expired"
        if not take:
            return Decision(w.wallet.model_copy(update={"seen": seen}), w.entries, note=note)
        lots2 = {**lots, lot_id: lot.model_copy(update={"points": lot.points - take})}
        if account == "available" and lot.points == take and lot_id not in _lots_in_holds(w.wallet.holds):
            del lots2[lot_id]  # an emptied lot goes, as `tick` would drop it (same state however delivered)
        entry = _entry(w.wallet, "clawback", return_line_id, account, "program:clawed_back", take, at)
        wallet2 = w.wallet.model_copy(update={account: lots2, "seen": seen})
        return Decision(post(wallet2, [entry]), [*w.entries, entry], note=note)
    note = (f"{points} of {points} points were already spent or expired" if lot_id in w.wallet.seen
            else f"{lot_id} was never credited to this wallet")
    return Decision(w.wallet.model_copy(update={"seen": seen}), w.entries, note=note)


def hold(wallet: Wallet, request_id: str, points: int, at: datetime, expires_at: datetime) -> Decision:
    """Reserve points for a redemption: granted from the oldest lots, or declined with a reason."""
    w = tick(wallet, at)
    known = w.wallet.holds.get(request_id)
    if known is not None:  # the same request again: its state, never a second hold
        return Decision(w.wallet, w.entries, known)
    have = w.wallet.balance("available")
    if points > have or expires_at <= at:
        reason = (f"insufficient points: {have} available, {points} requested" if points > have
                  else "expired on arrival: expires_at is not after the request's time")
        declined = PointsHold(request_id=request_id, points=points, expires_at=expires_at, status="declined",
                              reason=reason, resolved_at=at)
        return Decision(w.wallet.model_copy(update={"holds": {**w.wallet.holds, request_id: declined}}),
                        w.entries, declined)
    available, taken, left = dict(w.wallet.available), {}, points
    for lot in sorted(w.wallet.available.values(), key=lambda x: (x.earned_at, x.lot_id)):
        if not left:
            break
        take = min(left, lot.points)
        if take:
            taken[lot.lot_id] = take
            available[lot.lot_id] = lot.model_copy(update={"points": lot.points - take})
            left -= take
    granted = PointsHold(request_id=request_id, points=points, expires_at=expires_at, status="granted", taken=taken)
    entry = _entry(w.wallet, "hold", request_id, "available", "held", points, at)
    wallet2 = w.wallet.model_copy(update={"available": available, "holds": {**w.wallet.holds, request_id: granted}})
    return Decision(post(wallet2, [entry]), [*w.entries, entry], granted)


def capture(wallet: Wallet, request_id: str, at: datetime) -> Decision:
    """The sale completed: the held points are redeemed. Once; later asks get the final state."""
    return _resolve(wallet, request_id, at, "captured", "program:redeemed", None)


def void(wallet: Wallet, request_id: str, at: datetime, reason: str) -> Decision:
    """The sale was abandoned: the held points go back to their lots."""
    return _resolve(wallet, request_id, at, "voided", "available", reason)


def _resolve(
    wallet: Wallet, request_id: str, at: datetime, status: HoldStatus, to: str, reason: str | None
) -> Decision:
    w = tick(wallet, at)
    known = w.wallet.holds.get(request_id)
    if known is None or known.status != "granted":
        return Decision(w.wallet, w.entries, known)
    done = known.model_copy(update={"status": status, "resolved_at": at, "reason": reason})
    available = _restore(w.wallet.available, known.taken) if to == "available" else w.wallet.available
    entry = _entry(w.wallet, "capture" if status == "captured" else "void", request_id, "held", to, known.points, at)
    wallet2 = w.wallet.model_copy(update={"available": available, "holds": {**w.wallet.holds, request_id: done}})
    return Decision(post(wallet2, [entry]), [*w.entries, entry], done)


def _too_old(wallet: Wallet, at: datetime) -> bool:
    return wallet.forgotten_before is not None and at < wallet.forgotten_before


def _restore(available: dict[str, Lot], taken: dict[str, int]) -> dict[str, Lot]:
    out = dict(available)
    for lot_id, points in taken.items():
        lot = out.get(lot_id)
        if lot is not None:
            out[lot_id] = lot.model_copy(update={"points": lot.points + points})
    return out


def _lots_in_holds(holds: dict[str, PointsHold]) -> set[str]:
    return {lot_id for h in holds.values() if h.status == "granted" for lot_id in h.taken}
