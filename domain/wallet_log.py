"""A wallet's log: each command applied once, whatever Kafka redelivers. Pure.

The wallet table is keyed by customer id and fed by `loyalty.commands` keyed the same way.
A command at or below the wallet's `applied_offset` is a redelivery: it is answered with the
state it left and what it posted and sent is sent again (kept for the wallet's last
`KEEP_RECENT` offsets, however far apart in the partition), never posted twice. Causes
(lot ids, return lines, request ids, merges) deduplicate commands that arrive again at a new
offset (producer retries, replays, forwards).

Merges (`loyalty.merge`, `loyalty.move_in`): the customer seen first survives
(domain.identity.survivor). The merged-away wallet posts its balances to the program's merge
clearing account and sends its lots, holds, causes and spend to the survivor, which posts them
back out of that account into the same customer accounts: a ledger transfer, both histories
kept. From then on the merged-away wallet forwards every command to the survivor (unchanged
event id, so the survivor's answer reaches whoever waits for it), and a merge it receives is
decided by the wallet it joined: merges along chains end at one survivor, the group's oldest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import TypeAdapter

from domain.identity import survivor
from domain.ids import derived_id
from domain.loyalty_rules import EarnRules, points_for_line
from domain.wallet import (
    Decision,
    Entry,
    Lot,
    Moved,
    PointsHold,
    SentCommand,
    TierMove,
    Wallet,
    add_spend,
    advance,
    capture,
    clawback,
    earn,
    hold,
    move_in,
    move_out,
    tick,
    void,
)
from streams.loyalty import (
    AdvanceWallet,
    CapturePoints,
    ClawbackPoints,
    EarnPoints,
    HoldPoints,
    LedgerLine,
    MergeWallets,
    PointsAnswered,
    PointsPosted,
    TierChanged,
    VoidPoints,
    WalletHold,
    WalletLot,
    WalletMovedIn,
)

WalletCommand = (EarnPoints | ClawbackPoints | HoldPoints | CapturePoints | VoidPoints | MergeWallets | WalletMovedIn
                 | AdvanceWallet)
Output = WalletCommand | TierChanged  # commands go back onto loyalty.commands, tier changes to loyalty.tier-changes
KEEP_RECENT = 16
SENT: TypeAdapter[Output] = TypeAdapter(SentCommand)
DEFAULT_RULES = EarnRules()


@dataclass(frozen=True)
class Applied:
    wallet: Wallet
    entries: list[Entry] = field(default_factory=list)
    answer: PointsAnswered | None = None
    verdict: Literal["applied", "redelivered", "forwarded"] = "applied"
    note: str | None = None
    out: list[Output] = field(default_factory=list)


def apply(wallet: Wallet, command: WalletCommand, offset: int, rules: EarnRules = DEFAULT_RULES) -> Applied:
    if offset <= wallet.applied_offset:
        return _redelivered(wallet, command, offset)
    if wallet.merged_into is not None:
        out: list[Output] = [_forward(wallet, command)]
        return Applied(_remember(wallet, offset, [], out), [], None, "forwarded", f"merged into {wallet.merged_into}",
                       out)
    decision, out = _decide(wallet, command, rules)
    out = [o.model_copy(update={"command_offset": offset}) if isinstance(o, TierChanged) else o for o in out]
    new = _remember(decision.wallet, offset, decision.entries, out)
    return Applied(new, decision.entries, _answer(new, command, decision.answer), "applied", decision.note, out)


def _redelivered(wallet: Wallet, command: WalletCommand, offset: int) -> Applied:
    entries = wallet.recent.get(offset, [])
    out: list[Output] = [SENT.validate_json(raw) for raw in wallet.recent_out.get(offset, [])]
    if not out and wallet.merged_into is not None and not isinstance(command, MergeWallets | WalletMovedIn):
        # The command's state now lives with the survivor: ask there (it answers holds by state,
        # deduplicates the rest by cause), but send the move-in again first, so the survivor
        # has this wallet's lots and causes before it sees a command from before the merge.
        out = [*([SENT.validate_json(wallet.moved)] if wallet.moved else []), _forward(wallet, command)]
    answer = None if out else _answer(wallet, command, wallet.holds.get(getattr(command, "request_id", "")))
    return Applied(wallet, entries, answer, "redelivered", None, out)


def _remember(wallet: Wallet, offset: int, entries: list[Entry], out: list[Output]) -> Wallet:
    recent, recent_out = dict(wallet.recent), dict(wallet.recent_out)
    if entries:
        recent[offset] = entries
    if out:
        recent_out[offset] = [event.model_dump_json() for event in out]
    recent = {o: recent[o] for o in sorted(recent)[-KEEP_RECENT:]}  # this wallet's last postings
    recent_out = {o: recent_out[o] for o in sorted(recent_out)[-KEEP_RECENT:]}
    return wallet.model_copy(update={"applied_offset": offset, "recent": recent, "recent_out": recent_out})


def _forward(wallet: Wallet, command: WalletCommand) -> WalletCommand:
    assert wallet.merged_into is not None
    update: dict[str, object] = {"customer_id": wallet.merged_into}
    if isinstance(command, MergeWallets):  # the wallet it joined decides, with what this one knows of it
        update["customer_since"] = wallet.merged_into_since
    return command.model_copy(update=update)


def _decide(wallet: Wallet, command: WalletCommand, rules: EarnRules) -> tuple[Decision, list[Output]]:
    at = command.occurred_at
    if isinstance(command, AdvanceWallet):  # time alone: the same function a read "as of now" uses
        decision, lapsed = advance(wallet, command.as_of, rules)
        return decision, _tier_changed(command, decision.wallet, lapsed, command.as_of, "lapsed")
    # The tier as of this command: days that left the window drop first, so a lapsed tier is
    # neither used to price this purchase nor shown after it.
    wallet, lapsed = add_spend(wallet, at.date(), 0, at, rules)
    decision, out = _decide_now(wallet, command, rules)
    return decision, _one_tier_change([*_tier_changed(command, decision.wallet, lapsed, at, "lapsed"), *out])


def _one_tier_change(out: list[Output]) -> list[Output]:
    """A command that lapses a tier and then changes it (a purchase after a quiet year) says so
    as one change, from the tier before it to the tier after: two with one command and one time
    could not be told apart in order. None if it ends where it began."""
    changes = [o for o in out if isinstance(o, TierChanged)]
    if len(changes) < 2:
        return out
    net = changes[-1].model_copy(update={"previous": changes[0].previous})
    rest: list[Output] = [o for o in out if not isinstance(o, TierChanged)]
    return rest if net.previous == net.tier else [net, *rest]


def _decide_now(wallet: Wallet, command: WalletCommand, rules: EarnRules) -> tuple[Decision, list[Output]]:
    at = command.occurred_at
    match command:
        case EarnPoints():
            lifetime = timedelta(seconds=command.lifetime_s) if command.lifetime_s else None
            window = timedelta(seconds=command.return_window_s)
            if command.points is not None:
                points, spend = command.points, 0
            else:
                points = points_for_line(command.net_cents, command.sku or "", wallet.tier, rules,
                                         command.promotion_multiplier)
                spend = command.net_cents if points > 0 else 0  # excluded and pointless lines do not qualify
            # The promotion's bonus joins the line's lot as it was stamped (no tier multiplier, not
            # spend): one lot, so it matures, expires and is clawed back with the base points.
            points += command.bonus_points
            d = earn(wallet, command.lot_id, points, at, window, lifetime, command.quantity, command.net_cents)
            credited = any(e.cause == "earn" for e in d.entries)
            return _with_spend(d, at, spend if credited else 0, at, rules, command)
        case ClawbackPoints():
            d = clawback(wallet, command.return_line_id, command.lot_id, command.points, at, command.quantity)
            first_time = command.return_line_id not in wallet.seen and command.return_line_id in d.wallet.seen
            qualified = command.lot_id in wallet.seen  # its purchase counted as spend (a credited lot)
            day = command.purchased_at or at
            return _with_spend(d, day, -command.net_cents if first_time and qualified else 0, at, rules, command)
        case HoldPoints():
            return hold(wallet, command.request_id, command.points, at, command.expires_at, command.client), []
        case CapturePoints():
            return capture(wallet, command.request_id, at), []
        case VoidPoints():
            return void(wallet, command.request_id, at, command.reason), []
        case MergeWallets():
            return _merge(wallet, command)
        case WalletMovedIn():
            d, move = move_in(wallet, _moved(command), at, rules)
            return d, _tier_changed(command, d.wallet, move, at)
    return tick(wallet, at), []


def _with_spend(
    d: Decision, day: datetime, cents: int, at: datetime, rules: EarnRules, command: WalletCommand
) -> tuple[Decision, list[Output]]:
    if not cents:
        return d, []
    w, move = add_spend(d.wallet, day.date(), cents, at, rules)
    return Decision(w, d.entries, d.answer, d.note), _tier_changed(command, w, move, at)


def _tier_changed(
    command: WalletCommand, wallet: Wallet, move: TierMove | None, at: datetime, why: str = "tier"
) -> list[Output]:
    if move is None:
        return []
    return [TierChanged(
        event_id=derived_id(command.event_id, why), occurred_at=at, source_node="hq",
        customer_id=wallet.customer_id, tier=move.tier, previous=move.previous, spend_cents=move.spend_cents,
        window_start=datetime.combine(move.window_start, datetime.min.time(), at.tzinfo), as_of=at,
        threshold_cents=move.threshold_cents, cause_id=command.event_id,
    )]


def _merge(wallet: Wallet, command: MergeWallets) -> tuple[Decision, list[Output]]:
    at = command.occurred_at
    me = wallet.customer_id
    since = min(wallet.since or command.customer_since, command.customer_since)
    w = wallet.model_copy(update={"since": since})
    if command.other_id == me:
        return Decision(w), []
    if survivor((me, since), (command.other_id, command.other_since)) == me:
        # This wallet keeps both: the other one (or the one it joined) moves in here.
        ask = MergeWallets(
            event_id=derived_id(command.event_id, "merge"), occurred_at=at, source_node="hq",
            customer_id=command.other_id, customer_since=command.other_since, other_id=me, other_since=since,
        )
        return Decision(w), [ask]
    d, moved = move_out(w, command.other_id, command.other_since, at)
    move = _moved_in(command, moved, command.other_id, at)
    return Decision(d.wallet.model_copy(update={"moved": move.model_dump_json()}), d.entries), [move]


def _moved_in(command: WalletCommand, moved: Moved, to: str, at: datetime) -> WalletMovedIn:
    return WalletMovedIn(
        event_id=derived_id(command.event_id, "move"), occurred_at=at, source_node="hq", customer_id=to,
        from_customer=moved.from_customer,
        pending=[WalletLot(**lot.model_dump()) for lot in moved.pending],
        available=[WalletLot(**lot.model_dump()) for lot in moved.available],
        # `wallet.moved_in` carries no client: a hold moved by a merge may be captured by any client in scope.
        holds=[WalletHold(**h.model_dump(exclude={"client"})) for h in moved.holds],
        seen=moved.seen, spend=moved.spend, forgotten_before=moved.forgotten_before,
    )


def _moved(command: WalletMovedIn) -> Moved:
    return Moved(
        command.from_customer,
        [Lot(**lot.model_dump()) for lot in command.pending],
        [Lot(**lot.model_dump()) for lot in command.available],
        [PointsHold(**h.model_dump()) for h in command.holds],
        dict(command.seen), dict(command.spend), command.forgotten_before,
    )


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
        event_id=derived_id(command.event_id, f"posted:{wallet.customer_id}"), occurred_at=command.occurred_at,
        source_node="hq", customer_id=wallet.customer_id, command_id=command.event_id,
        entries=[LedgerLine(**e.model_dump(include=set(LedgerLine.model_fields))) for e in applied.entries],
        pending=wallet.balance("pending"), available=wallet.balance("available"), held=wallet.balance("held"),
    )
