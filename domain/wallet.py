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
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field

from domain.loyalty_rules import WINDOW_DAYS, EarnRules, clawback_points, tier_for
from streams.base import Record, UtcDatetime
from streams.loyalty import (
    AdvanceWallet,
    CapturePoints,
    ClawbackPoints,
    EarnPoints,
    HoldPoints,
    MergeWallets,
    TierChanged,
    VoidPoints,
    WalletMovedIn,
)

CustomerAccount = Literal["pending", "available", "held"]
ProgramAccount = Literal["program:issued", "program:redeemed", "program:expired", "program:clawed_back"]
Account = CustomerAccount | ProgramAccount
HoldStatus = Literal["granted", "declined", "captured", "voided", "expired"]
SentCommand = Annotated[
    EarnPoints | ClawbackPoints | HoldPoints | CapturePoints | VoidPoints | MergeWallets | WalletMovedIn | TierChanged
    | AdvanceWallet,
    Field(discriminator="type"),
]
CUSTOMER_ACCOUNTS: tuple[CustomerAccount, ...] = ("pending", "available", "held")
# Causes are remembered this long after they posted, so a replay inside the ingest topics'
# retention (30 days) is recognised; older causes cannot be delivered again.
CAUSE_RETENTION = timedelta(days=400)


class Lot(Record):
    """Points of one purchase line: `points` is what is left of them."""

    lot_id: str
    points: int = Field(ge=0)
    earned: int = Field(default=0, ge=0)  # what the line earned: returns claw back their share of it
    quantity: int = Field(default=1, gt=0)  # units bought on the line
    net_cents: int = Field(default=0, ge=0)  # the line's qualifying spend
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
    client: str = ""  # who asked (HoldPoints.client): only it, or an operator, captures or voids it over HTTP


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
    # What those offsets sent on, as JSON (a stored model would lose its `type` tag to exclude_defaults).
    recent_out: dict[int, list[str]] = Field(default_factory=dict)
    # Tiers: qualifying spend per day (ISO date) of the last 365 days, and the tier it gives.
    spend: dict[str, int] = Field(default_factory=dict)
    tier: str = "base"
    # Merges: when the customer was first seen (the survivor rule), and once merged away, the
    # customer this wallet joined: every later command is forwarded there.
    since: UtcDatetime | None = None
    merged_into: str | None = None
    merged_into_since: UtcDatetime | None = None
    moved: str | None = None  # the move-in it sent (JSON): sent again ahead of any redelivered command

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
    wallet: Wallet, lot_id: str, points: int, at: datetime, return_window: timedelta, lifetime: timedelta | None,
    quantity: int = 1, net_cents: int = 0,
) -> Decision:
    """Credit a purchase line's points as pending, once per line."""
    w = tick(wallet, at)
    if _too_old(w.wallet, at):
        return Decision(w.wallet, w.entries, note="older than the wallet remembers: not credited (may be a repeat)")
    if points <= 0 or lot_id in w.wallet.seen or lot_id in w.wallet.pending or lot_id in w.wallet.available:
        return Decision(w.wallet, w.entries, note="already credited" if points > 0 else "no points")
    lot = Lot(lot_id=lot_id, points=points, earned=points, quantity=quantity, net_cents=net_cents, earned_at=at,
              matures_at=at + return_window, expires_at=at + lifetime if lifetime else None)
    entry = _entry(w.wallet, "earn", lot_id, "program:issued", "pending", points, at)
    wallet2 = w.wallet.model_copy(update={"pending": {**w.wallet.pending, lot_id: lot},
                                          "seen": {**w.wallet.seen, lot_id: at}})
    posted = post(wallet2, [entry])
    if return_window <= timedelta(0):  # no return window: available at once
        matured = tick(posted, at)
        return Decision(matured.wallet, [*w.entries, entry, *matured.entries])
    return Decision(posted, [*w.entries, entry])


def clawback(
    wallet: Wallet, return_line_id: str, lot_id: str, points: int | None, at: datetime, quantity: int | None = None
) -> Decision:
    """Take back returned units' points from their line's lot (pending first, as it is), once.

    `quantity` returned units take their share of what the line earned (rounded up, see
    domain.loyalty_rules.clawback_points); `points` fixes the amount instead.
    """
    w = tick(wallet, at)
    if return_line_id in w.wallet.seen or _too_old(w.wallet, at):
        return Decision(w.wallet, w.entries, note="already clawed back, or older than the wallet remembers")
    seen = {**w.wallet.seen, return_line_id: at}
    for account, lots in (("pending", w.wallet.pending), ("available", w.wallet.available)):
        lot = lots.get(lot_id)
        if lot is None:
            continue
        want = points if points is not None else clawback_points(lot.earned, lot.quantity, quantity or lot.quantity)
        take = min(want, lot.points)
        note = None if take == want else f"{want - take} of {want} points were already spent or expired"
        if not take:
            return Decision(w.wallet.model_copy(update={"seen": seen}), w.entries, note=note)
        lots2 = {**lots, lot_id: lot.model_copy(update={"points": lot.points - take})}
        if account == "available" and lot.points == take and lot_id not in _lots_in_holds(w.wallet.holds):
            del lots2[lot_id]  # an emptied lot goes, as `tick` would drop it (same state however delivered)
        entry = _entry(w.wallet, "clawback", return_line_id, account, "program:clawed_back", take, at)
        wallet2 = w.wallet.model_copy(update={account: lots2, "seen": seen})
        return Decision(post(wallet2, [entry]), [*w.entries, entry], note=note)
    note = ("the line's points were already spent or expired" if lot_id in w.wallet.seen
            else f"{lot_id} was never credited to this wallet")
    return Decision(w.wallet.model_copy(update={"seen": seen}), w.entries, note=note)


def hold(wallet: Wallet, request_id: str, points: int, at: datetime, expires_at: datetime,
         client: str = "") -> Decision:
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
                              reason=reason, resolved_at=at, client=client)
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
    granted = PointsHold(request_id=request_id, points=points, expires_at=expires_at, status="granted", taken=taken,
                         client=client)
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


# --- tiers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierMove:
    tier: str
    previous: str
    spend_cents: int
    window_start: date
    threshold_cents: int


def add_spend(wallet: Wallet, day: date, cents: int, at: datetime, rules: EarnRules) -> tuple[Wallet, TierMove | None]:
    """Book qualifying spend (negative for returns) on `day` and recompute the tier as of `at`.

    The window keeps the 365 days ending `at`; a return books on its purchase's day, so it
    leaves the window when the purchase does. The days kept are what explains the tier.
    """
    start = at.date() - timedelta(days=WINDOW_DAYS - 1)
    spend = dict(wallet.spend)
    if cents and day >= start:
        spend[day.isoformat()] = spend.get(day.isoformat(), 0) + cents
    spend = {d: c for d, c in spend.items() if date.fromisoformat(d) >= start and c}
    total = max(0, sum(spend.values()))
    tier = tier_for(total, rules)
    w = wallet.model_copy(update={"spend": spend, "tier": tier})
    if tier == wallet.tier:
        return w, None
    return w, TierMove(tier, wallet.tier, total, start, rules.tier_thresholds_cents.get(tier, 0))


def spend_total(wallet: Wallet) -> int:
    return max(0, sum(wallet.spend.values()))


# --- time ------------------------------------------------------------------------------------


def advance(wallet: Wallet, at: datetime, rules: EarnRules) -> tuple[Decision, TierMove | None]:
    """Everything time alone does to a wallet by `at`: spend leaves the tier window (the tier
    may lapse), pending lots mature, holds and lots expire. What a `loyalty.advance` posts, and
    what a read "as of now" shows."""
    lapsed, move = add_spend(wallet, at.date(), 0, at, rules)
    return tick(lapsed, at), move


def next_due(wallet: Wallet, rules: EarnRules) -> datetime | None:
    """The first moment at which time alone changes the wallet's balances or tier; None if never.

    Before it, `advance` posts nothing and keeps the tier; the wallet timer asks again then."""
    if wallet.merged_into is not None:
        return None
    due = [lot.matures_at for lot in wallet.pending.values()]
    due += [h.expires_at for h in wallet.holds.values() if h.status == "granted"]
    due += [lot.expires_at for lot in wallet.available.values() if lot.expires_at is not None and lot.points]
    lapse = _tier_lapse(wallet, rules)
    if lapse is not None:
        due.append(lapse)
    return min(due, default=None)


def _tier_lapse(wallet: Wallet, rules: EarnRules) -> datetime | None:
    """When the tier changes as days of spend leave the 365-day window, if no spend comes."""
    days = sorted((date.fromisoformat(d), c) for d, c in wallet.spend.items())
    left = sum(c for _, c in days)
    if tier_for(max(0, left), rules) != wallet.tier:  # stored tier is stale: due now
        return datetime.combine(days[0][0] if days else date.min, datetime.min.time(), UTC)
    for day, cents in days:
        left -= cents
        if tier_for(max(0, left), rules) != wallet.tier:
            return datetime.combine(day + timedelta(days=WINDOW_DAYS), datetime.min.time(), UTC)
    return None


# --- merges ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    """What a merged-away wallet hands to its survivor: every lot, hold, cause and day of spend."""

    from_customer: str
    pending: list[Lot]
    available: list[Lot]
    holds: list[PointsHold]
    seen: dict[str, datetime]
    spend: dict[str, int]
    forgotten_before: datetime | None


def move_out(wallet: Wallet, survivor: str, survivor_since: datetime, at: datetime) -> tuple[Decision, Moved]:
    """Empty this wallet into `survivor`'s: each customer account with points goes to the
    program's merge clearing account, which `move_in` empties into the survivor's same account."""
    ticked = tick(wallet, at)
    w = ticked.wallet
    entries: list[Entry] = []
    for account in CUSTOMER_ACCOUNTS:
        if w.balance(account):
            entries.append(_entry(w, "merge", f"{w.customer_id}:out:{account}", account, "program:merges",
                                  w.balance(account), at))
    moved = Moved(w.customer_id, list(w.pending.values()), list(w.available.values()), list(w.holds.values()),
                  dict(w.seen), dict(w.spend), w.forgotten_before)
    shell = w.model_copy(update={
        "pending": {}, "available": {}, "holds": {}, "seen": {}, "spend": {}, "tier": "base",
        "merged_into": survivor, "merged_into_since": survivor_since,
    })
    return Decision(post(shell, entries), [*ticked.entries, *entries]), moved


def move_in(wallet: Wallet, moved: Moved, at: datetime, rules: EarnRules) -> tuple[Decision, TierMove | None]:
    """Take a merged-away wallet's contents in, once (the merge is remembered as a cause)."""
    w = tick(wallet, at)
    cause = f"merge:{moved.from_customer}"
    if cause in w.wallet.seen:
        return Decision(w.wallet, w.entries, note=f"{moved.from_customer} was merged in already"), None
    # A request id both wallets used (ids must be unique per till, not per customer): the
    # survivor's hold keeps it, and the merged-away one's points go back to its lots.
    clash = [h for h in moved.holds if h.request_id in w.wallet.holds]
    holds_in = [h for h in moved.holds if h.request_id not in w.wallet.holds]
    available_in = {lot.lot_id: lot for lot in moved.available}
    for h in clash:
        if h.status == "granted":
            available_in = _restore(available_in, h.taken)
    lots = {"pending": {lot.lot_id: lot for lot in moved.pending}, "available": available_in}
    entries = list(w.entries)
    for account in CUSTOMER_ACCOUNTS:
        if account == "held":
            points = sum(h.points for h in holds_in if h.status == "granted")
        else:
            points = sum(lot.points for lot in lots[account].values())
        if points:
            entries.append(_entry(w.wallet, "merge", f"{moved.from_customer}:in:{account}", "program:merges",
                                  account, points, at))
    holds = {**w.wallet.holds, **{h.request_id: h for h in holds_in}}
    seen = {**moved.seen, **w.wallet.seen, cause: at}
    spend = dict(w.wallet.spend)
    for day, cents in moved.spend.items():
        spend[day] = spend.get(day, 0) + cents
    forgotten = max((d for d in (w.wallet.forgotten_before, moved.forgotten_before) if d), default=None)
    merged = w.wallet.model_copy(update={
        "pending": {**w.wallet.pending, **lots["pending"]}, "available": {**w.wallet.available, **lots["available"]},
        "holds": holds, "seen": seen, "spend": spend, "forgotten_before": forgotten,
    })
    posted = post(merged, entries[len(w.entries):])
    after, tier = add_spend(posted, at.date(), 0, at, rules)
    matured = tick(after, at)  # lots past their maturity while in flight
    return Decision(matured.wallet, [*entries, *matured.entries]), tier
