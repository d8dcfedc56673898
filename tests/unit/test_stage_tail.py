"""A stage reads a partition's unread tail itself once it has not moved for STUCK_AFTER_S."""

from __future__ import annotations

import os

os.environ.setdefault("OMNI_STORE", "memory://")

import asyncio
from typing import Any

import pytest
from faust.types import TP

import app  # noqa: E402, F401  (the app imports every agent: load it first, as a worker does)
from agents import stage as stage_module
from agents.refetch import Refetched
from agents.stage import STUCK_AFTER_S, Stage

TOPIC = "t.inventory.movements"


class Consumer:
    def __init__(self, highwater: int, committed: int | None = None) -> None:
        self.high = highwater
        self._committed_offset = {} if committed is None else {TP(TOPIC, 2): committed}

    def assignment(self) -> set[TP]:
        return {TP(TOPIC, 2), TP("t.other-changelog", 2)}

    def highwater(self, tp: TP) -> int:
        return self.high


@pytest.fixture
def applied(monkeypatch: pytest.MonkeyPatch) -> tuple[Stage, list[int]]:
    async def fetch_range(topic: str, partition: int, offsets: range) -> list[Refetched]:
        return [Refetched(topic, partition, o, b"k", b"v", 0) for o in offsets]

    monkeypatch.setattr(stage_module, "fetch_range", fetch_range)
    seen: list[int] = []

    async def process(message: Any) -> None:
        seen.append(message.offset)

    stage = Stage("test")
    stage.topics, stage.process = frozenset({TOPIC}), process
    return stage, seen


def test_a_tail_that_stays_unread_is_applied_once_after_the_stall_time(applied) -> None:  # type: ignore[no-untyped-def]
    stage, seen = applied
    consumer = Consumer(highwater=2)
    asyncio.run(stage.heal_tails(consumer, now=0))
    asyncio.run(stage.heal_tails(consumer, now=STUCK_AFTER_S - 1))
    assert seen == []  # not stuck long enough: Faust may still deliver it
    asyncio.run(stage.heal_tails(consumer, now=STUCK_AFTER_S + 1))
    assert seen == [0, 1]
    asyncio.run(stage.heal_tails(consumer, now=2 * STUCK_AFTER_S + 2))
    assert seen == [0, 1]  # caught up: nothing more


def test_a_tail_that_moves_is_a_backlog_not_a_stall(applied) -> None:  # type: ignore[no-untyped-def]
    stage, seen = applied
    consumer = Consumer(highwater=5, committed=3)
    for n, now in enumerate((0, STUCK_AFTER_S, 2 * STUCK_AFTER_S)):
        stage.done[(TOPIC, 2)] = 2 + n  # the stream applies one record per check
        asyncio.run(stage.heal_tails(consumer, now=now))
    assert seen == []


def test_the_committed_offset_is_where_an_untouched_partition_starts(applied) -> None:  # type: ignore[no-untyped-def]
    stage, seen = applied
    consumer = Consumer(highwater=7, committed=5)
    asyncio.run(stage.heal_tails(consumer, now=0))
    asyncio.run(stage.heal_tails(consumer, now=STUCK_AFTER_S + 1))
    assert seen == [5, 6]
