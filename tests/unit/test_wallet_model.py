"""The wallet ledger over random sequences of earn, clawback, hold, capture, void and time.

After every step: the customer's balances equal the sum of every entry posted so far and are
never negative; the lots and holds add up to the balances; no entry id (derived from its
cause) ever posts twice. At the end, points are conserved: every point earned is pending,
available, held, redeemed, expired or clawed back. Every command delivered twice decides as
if delivered once.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.wallet import CUSTOMER_ACCOUNTS, Decision, Entry, Wallet, capture, clawback, earn, hold, tick, void

T0 = datetime(2026, 11, 26, 9, tzinfo=UTC)
WINDOW = timedelta(days=30)
LIFETIME = timedelta(days=90)

step = st.tuples(
    st.sampled_from(["earn", "earn", "clawback", "hold", "hold", "capture", "void", "tick"]),
    st.integers(0, 6),  # which lot / request
    st.integers(1, 120),  # points
    st.sampled_from([0, 1, 60, 24 * 60, 31 * 24 * 60, 100 * 24 * 60]),  # minutes later
)


def run(plan: list[tuple[str, int, int, int]], twice: bool = False) -> tuple[Wallet, list[Entry]]:
    wallet, entries, now = Wallet(customer_id="c-1"), [], T0
    for kind, n, points, minutes in plan:
        now += timedelta(minutes=minutes)
        for _ in range(2 if twice else 1):
            decision = _apply(wallet, kind, n, points, now)
            wallet = decision.wallet
            entries += decision.entries
            check(wallet, entries)
    return wallet, entries


def _apply(wallet: Wallet, kind: str, n: int, points: int, now: datetime) -> Decision:
    match kind:
        case "earn":  # a purchase line has one time, however late or often it is delivered
            return earn(wallet, f"sale-{n}:1", points, T0 + timedelta(hours=n), WINDOW, LIFETIME)
        case "clawback":  # likewise a return line
            return clawback(wallet, f"return-{n}-{points}:1", f"sale-{n}:1", points, T0 + timedelta(days=n + 1))
        case "hold":
            return hold(wallet, f"req-{n}", points, now, now + timedelta(minutes=10))
        case "capture":
            return capture(wallet, f"req-{n}", now)
        case "void":
            return void(wallet, f"req-{n}", now, "abandoned")
        case _:
            return tick(wallet, now)


def sums(entries: list[Entry]) -> Counter[str]:
    total: Counter[str] = Counter()
    for e in entries:
        total[e.debit] -= e.points
        total[e.credit] += e.points
    return total


def check(wallet: Wallet, entries: list[Entry]) -> None:
    total = sums(entries)
    for account in CUSTOMER_ACCOUNTS:
        assert wallet.balance(account) == total[account] >= 0, (account, wallet.balances, dict(total))
    assert wallet.balance("pending") == sum(lot.points for lot in wallet.pending.values())
    assert wallet.balance("available") == sum(lot.points for lot in wallet.available.values())
    assert wallet.balance("held") == sum(h.points for h in wallet.holds.values() if h.status == "granted")
    ids = [e.entry_id for e in entries]
    assert len(ids) == len(set(ids)), [i for i, c in Counter(ids).items() if c > 1]


@settings(max_examples=400, deadline=None)
@given(st.lists(step, max_size=40))
def test_balances_are_the_sum_of_entries_never_negative_and_no_cause_posts_twice(plan) -> None:
    wallet, entries = run(plan)
    total = sums(entries)
    earned = sum(e.points for e in entries if e.cause == "earn")
    accounted = sum(total[a] for a in (*CUSTOMER_ACCOUNTS, "program:redeemed", "program:expired",
                                       "program:clawed_back"))
    assert accounted == earned == -total["program:issued"]
    # A purchase line is credited once, whatever else happened.
    earns = Counter(e.cause_id for e in entries if e.cause == "earn")
    assert all(count == 1 for count in earns.values())


@settings(max_examples=200, deadline=None)
@given(st.lists(step, max_size=30))
@example([("earn", 0, 1, 0), ("earn", 2, 1, 44_640), ("hold", 0, 1, 0), ("clawback", 2, 1, 0)])  # emptied lot
def test_every_command_delivered_twice_decides_as_if_delivered_once(plan) -> None:
    once, once_entries = run(plan)
    twice, twice_entries = run(plan, twice=True)
    assert twice == once
    assert [e.entry_id for e in twice_entries] == [e.entry_id for e in once_entries]


@settings(max_examples=200, deadline=None)
@given(st.lists(step, max_size=40))
def test_each_hold_resolves_once_and_captures_never_exceed_what_was_available(plan) -> None:
    _, entries = run(plan)
    resolutions = Counter(e.cause_id for e in entries if e.cause in ("capture", "void", "expire_hold"))
    assert all(count == 1 for count in resolutions.values())
    holds = {e.cause_id: e.points for e in entries if e.cause == "hold"}
    assert set(resolutions) <= set(holds)
    captured = sum(e.points for e in entries if e.cause == "capture")
    assert captured <= sum(e.points for e in entries if e.cause == "earn")


def test_a_hold_beyond_the_available_balance_is_declined_with_the_balance() -> None:
    wallet = earn(Wallet(customer_id="c-1"), "sale-1:1", 50, T0, timedelta(0), None).wallet
    decision = hold(wallet, "req-1", 80, T0, T0 + timedelta(minutes=5))
    assert decision.answer is not None and decision.answer.status == "declined"
    assert decision.answer.reason == "insufficient points: 50 available, 80 requested"
    assert decision.entries == [] and decision.wallet.balance("available") == 50


def test_pending_points_are_clawed_back_first_and_spent_points_are_never_overdrawn() -> None:
    wallet = earn(Wallet(customer_id="c-1"), "sale-1:1", 100, T0, WINDOW, None).wallet
    back = clawback(wallet, "ret-1:1", "sale-1:1", 40, T0 + timedelta(days=1))
    assert [(e.debit, e.points) for e in back.entries] == [("pending", 40)]
    later = T0 + WINDOW + timedelta(days=1)
    spent = capture(hold(back.wallet, "req-1", 60, later, later + timedelta(minutes=5)).wallet, "req-1", later).wallet
    again = clawback(spent, "ret-2:1", "sale-1:1", 60, later)
    assert again.entries == [] and again.note == "the line's points were already spent or expired"
    assert again.wallet.balance("available") == 0
