"""A lane whose oldest unanswered command waited past the answer timeout is behind, until it is answered."""

from __future__ import annotations

from types import SimpleNamespace

from runtime import replies
from streams.topics import INVENTORY_MOVEMENTS

LANE = ("inventory.movements", 2)


def test_a_lane_is_behind_once_its_oldest_command_waited_longer_than_the_timeout() -> None:
    replies.sent("cmd-old", LANE, at=100.0)
    replies.sent("cmd-new", LANE, at=104.0)
    try:
        assert replies.behind(LANE, 5.0, now=104.5) == 0.0
        assert replies.behind(LANE, 5.0, now=106.0) == 6.0
        assert replies.behind(("inventory.movements", 3), 5.0, now=106.0) == 0.0  # another partition is fine
        replies.answered(SimpleNamespace(command_id="cmd-old"))  # type: ignore[arg-type]
        assert replies.behind(LANE, 5.0, now=106.0) == 0.0  # the next one has waited 2 s only
    finally:
        replies.answered(SimpleNamespace(command_id="cmd-new"))  # type: ignore[arg-type]
    assert replies.behind(LANE, 5.0, now=200.0) == 0.0


def test_a_command_whose_answer_never_comes_stops_counting_after_a_while() -> None:
    replies.sent("cmd-lost", LANE, at=0.0)
    assert replies.behind(LANE, 5.0, now=10.0) == 10.0
    assert replies.behind(LANE, 5.0, now=5.0 * replies.STALE_FACTOR + 1) == 0.0
    assert replies.behind(LANE, 5.0, now=10.0) == 0.0  # forgotten


def test_the_lane_of_a_hold_is_the_partition_its_sku_is_published_to() -> None:
    from datetime import UTC, datetime

    from streams.holds import PlaceHold

    place = PlaceHold(event_id="e-1", occurred_at=datetime(2026, 1, 1, tzinfo=UTC), source_node="web", hold_id="h",
                      order_id="o", sku="SKU-001", node="st-001", quantity=1,
                      expires_at=datetime(2026, 1, 2, tzinfo=UTC))
    topic, partition = replies.lane(INVENTORY_MOVEMENTS, place)
    assert topic == INVENTORY_MOVEMENTS.name and 0 <= partition < INVENTORY_MOVEMENTS.partitions
    assert replies.lane(INVENTORY_MOVEMENTS, place.model_copy(update={"hold_id": "other"})) == (topic, partition)
