"""The worker's sourcing snapshot: ATP and capacity as read, minus this worker's holds in flight."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.fulfilment.capacity import capacity_sku
from streams.holds import HoldAnswered
from streams.inventory import AvailabilityChanged
from tables.snapshot import LiveSnapshot

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _available(sku: str, node: str, atp: int) -> AvailabilityChanged:
    return AvailabilityChanged(event_id=f"a-{sku}-{node}", occurred_at=T0, source_node=node, sku=sku, node=node,
                               on_hand=atp, held=0, safety=0, atp=atp)


def _answer(hold_id: str, sku: str, node: str, answer: str, atp_after: int) -> HoldAnswered:
    return HoldAnswered(event_id=f"{hold_id}:a", occurred_at=T0, source_node="hq", hold_id=hold_id, order_id="or-1",
                        sku=sku, node=node, quantity=1, answer=answer, atp_after=atp_after,  # type: ignore[arg-type]
                        command_id=f"c-{hold_id}")


def test_a_hold_in_flight_is_subtracted_until_the_authority_answers_it() -> None:
    snapshot = LiveSnapshot()
    snapshot.availability(_available("SKU-AAA", "store-a", 3))
    snapshot.reserve("or-1/1/SKU-AAA@store-a", "SKU-AAA", "store-a", 2, "or-1")
    assert snapshot.atp("SKU-AAA") == {"store-a": 1}
    snapshot.settle(_answer("or-1/1/SKU-AAA@store-a", "SKU-AAA", "store-a", "granted", atp_after=1))
    assert snapshot.atp("SKU-AAA") == {"store-a": 1}  # the answer's ATP, not the hold twice


def test_a_refused_hold_gives_its_units_back_at_once() -> None:
    snapshot = LiveSnapshot()
    snapshot.availability(_available("SKU-AAA", "store-a", 3))
    snapshot.reserve("or-1/1/SKU-AAA@store-a", "SKU-AAA", "store-a", 2, "or-1")
    snapshot.settle(_answer("or-1/1/SKU-AAA@store-a", "SKU-AAA", "store-a", "rejected", atp_after=3))
    assert snapshot.atp("SKU-AAA") == {"store-a": 3}


def test_an_order_decided_again_does_not_count_its_own_holds_against_itself() -> None:
    snapshot = LiveSnapshot()
    slot = T0
    cap = capacity_sku("store-a", "ship", slot)
    snapshot.availability(_available("SKU-AAA", "store-a", 2))
    snapshot.availability(_available(cap, "store-a", 1))
    snapshot.reserve("or-1/1/SKU-AAA@store-a", "SKU-AAA", "store-a", 2, "or-1")
    snapshot.reserve("or-1/1/cap@store-a", cap, "store-a", 1, "or-1")
    snapshot.reserve("or-2/1/SKU-AAA@store-a", "SKU-AAA", "store-a", 0 + 1, "or-2")
    assert snapshot.free_capacity("store-a", "ship", slot) == 0
    snapshot.forget_order("or-1")
    assert snapshot.free_capacity("store-a", "ship", slot) == 1
    assert snapshot.atp("SKU-AAA") == {"store-a": 1}  # or-2's unit is still out
