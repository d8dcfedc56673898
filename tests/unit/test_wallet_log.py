"""A wallet's log applied once: redeliveries re-send, never re-post; causes deduplicate replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.wallet import Wallet
from domain.wallet_log import apply
from streams.loyalty import CapturePoints, ClawbackPoints, EarnPoints, HoldPoints, VoidPoints

T0 = datetime(2026, 11, 26, 9, tzinfo=UTC)
CUSTOMER = "cus-" + "a" * 40


def _command(kind: str, n: int, points: int, at: datetime):  # type: ignore[no-untyped-def]
    common = {"event_id": f"ev-{kind}-{n}-{points}", "occurred_at": at, "source_node": "st-001",
              "customer_id": CUSTOMER}
    match kind:
        case "earn":
            return EarnPoints(**common, lot_id=f"sale-{n}:1", points=points, return_window_s=0)
        case "clawback":
            return ClawbackPoints(**common, return_line_id=f"ret-{n}:1", lot_id=f"sale-{n}:1", points=points)
        case "hold":
            return HoldPoints(**common, request_id=f"req-{n}", points=points, expires_at=at + timedelta(minutes=5),
                              client=f"till-{n % 3}")
        case "capture":
            return CapturePoints(**common, request_id=f"req-{n}")
    return VoidPoints(**common, request_id=f"req-{n}", reason="abandoned")


plans = st.lists(
    st.tuples(st.sampled_from(["earn", "earn", "hold", "hold", "capture", "void", "clawback"]),
              st.integers(0, 5), st.integers(1, 80)),
    max_size=30,
)


def _run(plan, redeliver: set[int]):  # type: ignore[no-untyped-def]
    wallet, posted, answers = Wallet(customer_id=CUSTOMER), [], []
    log = [_command(kind, n, points, T0 + timedelta(seconds=i)) for i, (kind, n, points) in enumerate(plan)]
    for offset, command in enumerate(log):
        for _ in range(2 if offset in redeliver else 1):
            out = apply(wallet, command, offset)
            wallet = out.wallet
            posted += [e.entry_id for e in out.entries]
            if out.answer:
                answers.append((out.answer.command_id, out.answer.status))
    return wallet, posted, answers


@settings(max_examples=200, deadline=None)
@given(plans, st.sets(st.integers(0, 29)))
def test_a_redelivered_command_re_sends_what_it_posted_and_answered_and_changes_nothing(plan, redeliver) -> None:
    once, posted_once, answers_once = _run(plan, set())
    twice, posted_twice, answers_twice = _run(plan, redeliver)
    assert twice == once
    assert list(dict.fromkeys(posted_twice)) == list(dict.fromkeys(posted_once))  # some sent twice, none new
    assert list(dict.fromkeys(answers_twice)) == list(dict.fromkeys(answers_once))
    assert len(posted_once) == len(set(posted_once))  # no entry id ever posted twice


def test_a_replayed_hold_at_a_new_offset_answers_the_first_decision() -> None:
    wallet = apply(Wallet(customer_id=CUSTOMER), _command("earn", 1, 50, T0), 0).wallet
    first = apply(wallet, _command("hold", 7, 30, T0), 1)
    again = apply(first.wallet, _command("hold", 7, 30, T0), 2)
    assert first.answer is not None and again.answer is not None
    assert (first.answer.status, again.answer.status) == ("granted", "granted")
    assert again.entries == [] and again.wallet.balance("held") == 30 and again.wallet.balance("available") == 20


def test_a_hold_granted_before_a_merge_is_captured_once_through_the_survivor() -> None:
    from domain.loyalty_rules import EarnRules
    from streams.loyalty import MergeWallets, WalletMovedIn

    old, young = "cus-" + "1" * 40, "cus-" + "2" * 40
    common = {"occurred_at": T0, "source_node": "st-001"}
    w = Wallet(customer_id=young)
    w = apply(w, EarnPoints(event_id="e1", **common, customer_id=young, lot_id="st-001/r1:1", sku="SKU-001",
                            quantity=2, net_cents=10_000, return_window_s=0), 1).wallet
    w = apply(w, HoldPoints(event_id="h1", **common, customer_id=young, request_id="q1", points=30,
                            expires_at=T0 + timedelta(hours=1), client="till-1"), 2).wallet
    merge = MergeWallets(event_id="m1", **common, customer_id=young, customer_since=T0 + timedelta(days=1),
                         other_id=old, other_since=T0)
    out = apply(w, merge, 3)
    (moved,) = out.out
    assert isinstance(moved, WalletMovedIn) and moved.customer_id == old
    assert out.wallet.merged_into == old and not any(out.wallet.balances.values())
    assert {(e.debit, e.credit, e.points) for e in out.entries} == {
        ("available", "program:merges", 70), ("held", "program:merges", 30)}
    again = apply(out.wallet, merge, 3)  # redelivered: the same move is sent again, nothing re-posted
    assert again.out == out.out and again.entries == out.entries and again.verdict == "redelivered"

    survivor = apply(Wallet(customer_id=old), moved, 1, EarnRules())
    assert (survivor.wallet.balance("available"), survivor.wallet.balance("held")) == (70, 30)
    assert apply(survivor.wallet, moved.model_copy(), 2).entries == []  # a second move-in posts nothing
    capture = CapturePoints(event_id="c1", **common, customer_id=young, request_id="q1")
    forwarded = apply(out.wallet, capture, 4)
    assert forwarded.verdict == "forwarded" and forwarded.answer is None
    assert forwarded.out == [capture.model_copy(update={"customer_id": old})]
    done = apply(survivor.wallet, forwarded.out[0], 2)  # type: ignore[arg-type]
    assert done.answer is not None and (done.answer.status, done.answer.command_id) == ("captured", "c1")
    assert apply(done.wallet, forwarded.out[0], 3).entries == []  # captured once  # type: ignore[arg-type]
    # A return of one of the two units claws back half of what the line earned, at the survivor.
    back = apply(done.wallet, ClawbackPoints(event_id="x1", **common, customer_id=old, return_line_id="ret-1:1:1",
                                             lot_id="st-001/r1:1", quantity=1, net_cents=5_000), 4)
    assert [(e.cause, e.points) for e in back.entries] == [("clawback", 50)]  # 100 earned, 30 redeemed: 70 left


def test_the_tier_follows_rolling_spend_and_each_change_is_published_with_its_explanation() -> None:
    from domain.loyalty_rules import EarnRules
    from streams.loyalty import TierChanged

    rules = EarnRules(tier_thresholds_cents={"base": 0, "silver": 50_000}, tier_multipliers={"base": 1, "silver": 2})
    common = {"source_node": "st-001", "customer_id": CUSTOMER}

    def earn(n: int, cents: int, at: datetime) -> EarnPoints:
        return EarnPoints(event_id=f"e{n}", occurred_at=at, **common, lot_id=f"st-001/r{n}:1", sku="SKU-001",
                          net_cents=cents, return_window_s=0)

    w = Wallet(customer_id=CUSTOMER)
    first = apply(w, earn(1, 60_000, T0), 1, rules)  # priced at base, then silver
    assert [e.points for e in first.entries if e.cause == "earn"] == [600]
    (change,) = first.out
    assert isinstance(change, TierChanged) and (change.previous, change.tier, change.spend_cents) == (
        "base", "silver", 60_000)
    second = apply(first.wallet, earn(2, 1_000, T0 + timedelta(days=1)), 2, rules)
    assert [e.points for e in second.entries if e.cause == "earn"] == [20] and second.out == []  # 10 x silver 2
    # A year later the first purchase has left the window: back to base with the next purchase.
    later = apply(second.wallet, earn(3, 1_000, T0 + timedelta(days=365)), 3, rules)
    assert later.wallet.tier == "base" and [(c.previous, c.tier) for c in later.out] == [("silver", "base")]
    assert later.wallet.spend == {(T0 + timedelta(days=1)).date().isoformat(): 1_000,
                                  (T0 + timedelta(days=365)).date().isoformat(): 1_000}


def test_a_request_id_both_merged_wallets_used_gives_the_merged_away_holds_points_back() -> None:
    from streams.loyalty import MergeWallets

    old, young = "cus-" + "1" * 40, "cus-" + "2" * 40
    common = {"occurred_at": T0, "source_node": "st-001"}

    def earned_and_held(customer: str) -> Wallet:
        w = apply(Wallet(customer_id=customer), EarnPoints(event_id=f"e-{customer}", **common, customer_id=customer,
                                                           lot_id=f"lot-{customer}", points=100, return_window_s=0), 1)
        return apply(w.wallet, HoldPoints(event_id=f"h-{customer}", **common, customer_id=customer, request_id="q-1",
                                          points=30, expires_at=T0 + timedelta(hours=1), client="till-1"), 2).wallet

    out = apply(earned_and_held(young), MergeWallets(event_id="m", **common, customer_id=young,
                                                     customer_since=T0 + timedelta(days=1), other_id=old,
                                                     other_since=T0), 3)
    survivor = apply(earned_and_held(old), out.out[0], 3).wallet  # type: ignore[arg-type]
    assert (survivor.balance("available"), survivor.balance("held")) == (170, 30)  # nothing stuck in held
    assert sum(h.points for h in survivor.holds.values() if h.status == "granted") == survivor.balance("held")


def test_returning_a_line_that_earned_nothing_takes_no_spend_off_the_tier() -> None:
    from domain.loyalty_rules import EarnRules

    rules = EarnRules(tier_thresholds_cents={"base": 0, "silver": 50_000}, excluded_skus=frozenset({"SKU-GIFT"}))
    common = {"occurred_at": T0, "source_node": "st-001", "customer_id": CUSTOMER}
    w = apply(Wallet(customer_id=CUSTOMER), EarnPoints(event_id="e1", **common, lot_id="r1:1", sku="SKU-001",
                                                       net_cents=60_000, return_window_s=0), 1, rules).wallet
    w = apply(w, EarnPoints(event_id="e2", **common, lot_id="r1:2", sku="SKU-GIFT", net_cents=20_000,
                            return_window_s=0), 2, rules).wallet
    back = apply(w, ClawbackPoints(event_id="x", **common, return_line_id="ret:1:2", lot_id="r1:2", quantity=1,
                                   net_cents=20_000, purchased_at=T0), 3, rules)
    assert back.wallet.tier == "silver" and sum(back.wallet.spend.values()) == 60_000 and back.out == []


def test_a_points_hold_remembers_the_client_that_placed_it() -> None:
    customer = "cus-" + "3" * 40
    common = {"occurred_at": T0, "source_node": "st-001", "customer_id": customer}
    w = apply(Wallet(customer_id=customer), EarnPoints(event_id="e1", **common, lot_id="st-001/r9:1", sku="SKU-001",
                                                       quantity=1, net_cents=5_000, return_window_s=0), 1).wallet
    granted = apply(w, HoldPoints(event_id="h1", **common, request_id="q1", points=10,
                                  expires_at=T0 + timedelta(hours=1), client="till-7"), 2).wallet
    declined = apply(w, HoldPoints(event_id="h2", **common, request_id="q2", points=10_000,
                                   expires_at=T0 + timedelta(hours=1), client="web-shop"), 2).wallet
    assert granted.holds["q1"].client == "till-7" and granted.holds["q1"].status == "granted"
    assert declined.holds["q2"].client == "web-shop" and declined.holds["q2"].status == "declined"
