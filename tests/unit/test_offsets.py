"""The hole watch: a forward jump inside a partition is reported; after a reassignment it is not."""

from __future__ import annotations

import asyncio
import logging

import pytest

from runtime.offsets import HoleDetector


def test_a_jump_is_reported_and_a_reassignment_starts_afresh(caplog: pytest.LogCaptureFixture) -> None:
    holes = HoleDetector("stage")
    assert holes.saw("t", 0, 5) == range(0)  # the first offset seen may be anywhere
    assert holes.saw("t", 0, 6) == range(0)
    assert holes.saw("t", 0, 6) == range(0)  # a redelivery is not a hole
    with caplog.at_level(logging.WARNING, "omnistream.offsets"):
        assert holes.saw("t", 0, 10) == range(7, 10)
    assert "reading them again" in caplog.text
    holes.forget()
    assert holes.saw("t", 0, 40) == range(0)  # resumed where another worker committed


def test_the_router_forgets_positions_on_every_assignment_and_does_not_claim_to_reread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import app  # noqa: F401
    from agents import route_movements

    holes = route_movements.holes
    holes.saw("t.web.orders", 3, 56)
    asyncio.run(route_movements._Reassigned(None, route_movements._Acked()).on_partitions_assigned(set()))
    assert holes.saw("t.web.orders", 3, 92) == range(0)  # CI's storm test logged this as a jump
    with caplog.at_level(logging.WARNING, "omnistream.offsets"):
        assert holes.saw("t.web.orders", 3, 95) == range(93, 95)
    assert "counted only" in caplog.text and "reading them again" not in caplog.text


def test_the_router_commits_an_offset_only_once_it_and_every_earlier_batch_are_acknowledged() -> None:
    from aiokafka import TopicPartition

    import app  # noqa: F401
    from agents.route_movements import _Acked

    class Consumer:
        def __init__(self) -> None:
            self.commits: list[dict[TopicPartition, int]] = []

        async def commit(self, offsets: dict[TopicPartition, int]) -> None:
            self.commits.append(dict(offsets))

    async def scenario() -> list[dict[TopicPartition, int]]:
        tp0, tp1 = TopicPartition("t", 0), TopicPartition("t", 1)
        loop = asyncio.get_running_loop()
        first, second = loop.create_future(), loop.create_future()
        acked, consumer = _Acked(), Consumer()
        acked.add({tp0: 10}, [first])
        acked.add({tp0: 20, tp1: 5}, [second])
        second.set_result(None)  # the later batch is in Kafka, the earlier one not yet
        await asyncio.sleep(0)
        await acked.commit(consumer)  # type: ignore[arg-type]
        assert consumer.commits == []
        first.set_result(None)
        await asyncio.sleep(0)
        await acked.commit(consumer)  # type: ignore[arg-type]
        return consumer.commits

    assert asyncio.run(scenario()) == [{TopicPartition("t", 0): 20, TopicPartition("t", 1): 5}]
