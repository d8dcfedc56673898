"""The wallet timer's index: what is due comes out oldest first, once, and again if it was lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.loyalty_rules import EarnRules
from domain.wallet import Lot, Wallet
from domain.wallet_due import RESEND_AFTER_S, DueIndex

T0 = datetime(2031, 2, 3, 4, tzinfo=UTC)


def pending(customer: str, matures_in: timedelta) -> Wallet:
    lot = Lot(lot_id=f"{customer}:1", points=10, earned=10, earned_at=T0, matures_at=T0 + matures_in)
    return Wallet(customer_id=customer, pending={lot.lot_id: lot}, balances={"pending": 10})


def test_due_wallets_come_out_oldest_first_and_only_once_while_in_flight() -> None:
    index = DueIndex(EarnRules())
    index.rebuild([pending("c-late", timedelta(hours=2)), pending("c-early", timedelta(hours=1)),
                   pending("c-later", timedelta(days=3)), Wallet(customer_id="c-empty")])
    assert index.take_due(T0, 0.0, 10) == []
    assert index.take_due(T0 + timedelta(hours=5), 1.0, 10) == ["c-early", "c-late"]
    assert index.take_due(T0 + timedelta(hours=5), 2.0, 10) == []  # in flight: not sent again
    assert index.lateness_s(T0 + timedelta(hours=5)) == 4 * 3600


def test_an_applied_advance_moves_the_wallet_to_its_next_due_moment() -> None:
    index = DueIndex(EarnRules())
    index.rebuild([pending("c-1", timedelta(hours=1))])
    assert index.take_due(T0 + timedelta(hours=1), 0.0, 10) == ["c-1"]
    index.note(pending("c-1", timedelta(days=30)))  # what the wallet looks like after the command
    assert index.take_due(T0 + timedelta(hours=2), 1.0, 10) == []
    assert index.take_due(T0 + timedelta(days=30), 2.0, 10) == ["c-1"]
    index.note(Wallet(customer_id="c-1"))  # nothing left to happen
    assert index.take_due(T0 + timedelta(days=400), 3.0, 10) == [] and index.lateness_s(T0) == 0


def test_an_advance_that_was_never_applied_is_sent_again_after_a_while() -> None:
    index = DueIndex(EarnRules())
    index.rebuild([pending("c-1", timedelta(0))])
    assert index.take_due(T0, 0.0, 10) == ["c-1"]
    assert index.take_due(T0, RESEND_AFTER_S - 1, 10) == []
    assert index.take_due(T0, RESEND_AFTER_S, 10) == ["c-1"]


def test_a_tick_takes_at_most_its_limit_and_the_rest_follow() -> None:
    index = DueIndex(EarnRules())
    index.rebuild([pending(f"c-{n:02d}", timedelta(minutes=n)) for n in range(5)])
    now = T0 + timedelta(hours=1)
    assert index.take_due(now, 0.0, 2) == ["c-00", "c-01"]
    assert index.take_due(now, 0.5, 10) == ["c-02", "c-03", "c-04"]


def test_a_wallet_a_command_noted_during_a_rebuild_keeps_that_newer_state() -> None:
    index = DueIndex(EarnRules())
    generation = index.begin_rebuild()
    index.note(pending("c-1", timedelta(hours=1)))  # applied while the rebuild reads the table
    index.rebuilt(Wallet(customer_id="c-1"))  # the table as the rebuild's iterator saw it: older
    index.rebuilt(pending("c-2", timedelta(hours=2)))
    assert index.end_rebuild(generation)
    assert index.take_due(T0 + timedelta(hours=3), 0.0, 10) == ["c-1", "c-2"]


def test_a_rebuild_overtaken_by_a_rebalance_leaves_the_index_invalid() -> None:
    index = DueIndex(EarnRules())
    generation = index.begin_rebuild()
    index.invalidate()  # partitions were assigned again meanwhile
    assert not index.end_rebuild(generation) and not index.valid


def test_a_command_that_leaves_the_due_moment_as_it_was_keeps_the_advance_in_flight() -> None:
    index = DueIndex(EarnRules())
    index.rebuild([pending("c-1", timedelta(0))])
    assert index.take_due(T0, 0.0, 10) == ["c-1"]
    index.note(pending("c-1", timedelta(0)))  # e.g. a till command dated before the due moment
    assert index.take_due(T0, 1.0, 10) == []  # still in flight, not sent twice
    assert index.take_due(T0, RESEND_AFTER_S, 10) == ["c-1"]  # and still resent if it was lost


def test_the_heap_stays_bounded_however_often_due_moments_change() -> None:
    index = DueIndex(EarnRules())
    index.rebuild([])
    for n in range(20_000):
        index.note(pending(f"c-{n % 10}", timedelta(minutes=n)))
    assert len(index._heap) <= 2 * len(index.due) + 1_000
    assert index.take_due(T0 + timedelta(days=30), 0.0, 100) == [f"c-{n}" for n in range(10)]
