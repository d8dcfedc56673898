"""Time alone moves a wallet: what the timer posts equals what a read "as of now" shows.

Wallets are built from random logs (earns with a return window and a lifetime, spend that
reaches tiers, holds with a time to live, captures, voids, returns) spread over two years.
Then: before `next_due` time changes nothing; at it, it changes something and the next due
moment is later (the timer never spins); a log with the timer's advances interleaved ends with
the same balances and tier as the log without them, read as of the same moment; an advance
applied twice posts once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.loyalty_rules import EarnRules
from domain.wallet import Wallet, advance, next_due
from domain.wallet_log import WalletCommand, apply
from streams.loyalty import AdvanceWallet, CapturePoints, ClawbackPoints, EarnPoints, HoldPoints, VoidPoints

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)  # any moment: nothing here reads the wall clock
CUSTOMER = "cus-" + "b" * 40
RULES = EarnRules(tier_thresholds_cents={"base": 0, "silver": 50_000, "gold": 150_000})
WINDOW_S = 30 * 86400
LIFETIME_S = 180 * 86400

steps = st.lists(
    st.tuples(
        st.sampled_from(["earn", "earn", "earn_now", "hold", "hold", "capture", "void", "clawback"]),
        st.integers(0, 7),  # which lot / request
        st.integers(1, 900),  # points to hold, or currency units spent
        st.sampled_from([0, 5, 600, 3600, 86400, 20 * 86400, 40 * 86400, 200 * 86400]),  # seconds later
    ),
    max_size=25,
)


def command(kind: str, n: int, amount: int, at: datetime, i: int) -> WalletCommand:
    common = {"event_id": f"ev-{i}", "occurred_at": at, "source_node": "st-001", "customer_id": CUSTOMER}
    match kind:
        case "earn" | "earn_now":  # earn_now: no return window (available at once)
            return EarnPoints(**common, lot_id=f"sale-{n}-{i}:1", sku="SKU-001", net_cents=amount * 100,
                              return_window_s=WINDOW_S if kind == "earn" else 0, lifetime_s=LIFETIME_S)
        case "clawback":
            return ClawbackPoints(**common, return_line_id=f"ret-{i}:1", lot_id=f"sale-{n}-{max(0, i - 1)}:1",
                                  quantity=1, net_cents=amount)
        case "hold":
            return HoldPoints(**common, request_id=f"req-{n}", points=1 + amount // 4,
                              expires_at=at + timedelta(minutes=10), client="till-1")
        case "capture":
            return CapturePoints(**common, request_id=f"req-{n}")
    return VoidPoints(**common, request_id=f"req-{n}", reason="abandoned")


def log_of(plan: list[tuple[str, int, int, int]]) -> list[WalletCommand]:
    at, out = T0, []
    for i, (kind, n, amount, later_s) in enumerate(plan):
        at += timedelta(seconds=later_s)
        out.append(command(kind, n, amount, at, i))
    return out


def replay(log: list[WalletCommand]) -> Wallet:
    wallet = Wallet(customer_id=CUSTOMER)
    for offset, c in enumerate(log):
        wallet = apply(wallet, c, offset, RULES).wallet
    return wallet


def advance_command(at: datetime, n: int) -> AdvanceWallet:
    return AdvanceWallet(event_id=f"adv-{n}", occurred_at=at, source_node="hq", customer_id=CUSTOMER, as_of=at)


def view(wallet: Wallet) -> tuple[int, int, int, str]:
    return wallet.balance("pending"), wallet.balance("available"), wallet.balance("held"), wallet.tier


@settings(max_examples=300, deadline=None)
@given(steps, st.floats(0.0, 0.999))
def test_before_the_next_due_moment_time_changes_nothing_and_at_it_something_changes(plan, fraction) -> None:
    log = log_of(plan)
    wallet = replay(log)
    due = next_due(wallet, RULES)
    last = log[-1].occurred_at if log else T0
    if due is None:  # nothing ever falls due: a year later the wallet is still the same
        decision, move = advance(wallet, last + timedelta(days=800), RULES)
        assert decision.entries == [] and move is None and view(decision.wallet) == view(wallet)
        return
    if due > last:
        before = last + (due - last) * fraction
        decision, move = advance(wallet, before, RULES)
        assert decision.entries == [] and move is None, (before, due)
    at_due, move = advance(wallet, max(due, last), RULES)
    assert at_due.wallet != wallet
    after = next_due(at_due.wallet, RULES)
    assert after is None or after > max(due, last), (due, after)  # the timer never spins on one moment


@settings(max_examples=300, deadline=None)
@given(steps, st.sampled_from([3600, 86400, 7 * 86400]))
def test_a_log_with_the_timers_advances_ends_where_a_read_as_of_now_says(plan, period_s) -> None:
    log = log_of(plan)
    end = (log[-1].occurred_at if log else T0) + timedelta(days=400)
    # The timer: every period, an advance to each due wallet, between the log's own commands.
    timed: list[WalletCommand] = []
    wallet, now, offset, n = Wallet(customer_id=CUSTOMER), T0, 0, 0
    for c in [*log, None]:
        until = c.occurred_at if c is not None else end
        while now + timedelta(seconds=period_s) <= until:
            now += timedelta(seconds=period_s)
            due = next_due(wallet, RULES)
            if due is not None and due <= now:
                tick = advance_command(now, n := n + 1)
                timed.append(tick)
                wallet = apply(wallet, tick, offset, RULES).wallet
                offset += 1
        if c is not None:
            timed.append(c)
            wallet = apply(wallet, c, offset, RULES).wallet
            offset += 1
    final = apply(wallet, advance_command(end, n + 1), offset, RULES)
    read, _ = advance(replay(log), end, RULES)
    assert view(final.wallet) == view(read.wallet)
    assert final.wallet.spend == read.wallet.spend


@settings(max_examples=200, deadline=None)
@given(steps, st.sampled_from([0, 86400, 31 * 86400, 366 * 86400]))
def test_an_advance_applied_again_at_a_new_offset_posts_nothing(plan, later_s) -> None:
    log = log_of(plan)
    wallet = replay(log)
    at = (log[-1].occurred_at if log else T0) + timedelta(seconds=later_s)
    first = apply(wallet, advance_command(at, 1), len(log), RULES)
    again = apply(first.wallet, advance_command(at, 2), len(log) + 1, RULES)
    assert again.entries == [] and again.out == []
    assert view(again.wallet) == view(first.wallet)
    read, _ = advance(wallet, at, RULES)
    assert view(first.wallet) == view(read.wallet)  # the ledger equals the read as of that moment


def test_a_customer_who_never_returns_sees_points_mature_expire_and_the_tier_lapse() -> None:
    earn = EarnPoints(event_id="e1", occurred_at=T0, source_node="st-001", customer_id=CUSTOMER, lot_id="s-1:1",
                      sku="SKU-001", net_cents=60_000, return_window_s=WINDOW_S, lifetime_s=LIFETIME_S)
    wallet = apply(Wallet(customer_id=CUSTOMER), earn, 0, RULES).wallet
    assert view(wallet) == (600, 0, 0, "silver")
    assert next_due(wallet, RULES) == T0 + timedelta(seconds=WINDOW_S)
    matured = apply(wallet, advance_command(T0 + timedelta(days=30), 1), 1, RULES)
    assert [(e.cause, e.points) for e in matured.entries] == [("mature", 600)]
    assert next_due(matured.wallet, RULES) == T0 + timedelta(seconds=LIFETIME_S)
    expired = apply(matured.wallet, advance_command(T0 + timedelta(days=180), 2), 2, RULES)
    assert [(e.cause, e.debit, e.credit, e.points) for e in expired.entries] == [
        ("expire_lot", "available", "program:expired", 600)]
    lapse = next_due(expired.wallet, RULES)
    assert lapse == datetime.combine(T0.date() + timedelta(days=365), datetime.min.time(), UTC)
    lapsed = apply(expired.wallet, advance_command(lapse, 3), 3, RULES)
    assert lapsed.entries == [] and [(c.previous, c.tier) for c in lapsed.out] == [("silver", "base")]  # type: ignore[union-attr]
    assert view(lapsed.wallet) == (0, 0, 0, "base") and next_due(lapsed.wallet, RULES) is None


def test_a_purchase_after_a_lapsed_year_is_one_tier_change_from_before_to_after() -> None:
    def earn(n: int, cents: int, at: datetime) -> EarnPoints:
        return EarnPoints(event_id=f"e{n}", occurred_at=at, source_node="st-001", customer_id=CUSTOMER,
                          lot_id=f"s-{n}:1", sku="SKU-001", net_cents=cents, return_window_s=0)

    silver = apply(Wallet(customer_id=CUSTOMER), earn(1, 60_000, T0), 0, RULES).wallet
    later = T0 + timedelta(days=400)
    gold = apply(silver, earn(2, 200_000, later), 1, RULES)
    assert [(c.previous, c.tier, c.command_offset) for c in gold.out] == [("silver", "gold", 1)]  # type: ignore[union-attr]
    again = apply(silver, earn(3, 60_000, later), 1, RULES)
    assert again.out == [] and again.wallet.tier == "silver"  # lapsed and regained by the same purchase
