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
