"""The loop every stateful agent runs: re-read what Faust jumped over, and never die quietly.

Faust's consumer can jump over records after a restart (docs/inventory-slice.md): a stage
notices the offset jump within a partition and applies the skipped records first, straight
from Kafka; whatever was applied already is recognised by the stage's own exactly-once rules.

A jump is only visible when a later record arrives. After a rebalance Faust can also leave a
partition's newest records unread with nothing after them (seen in CI: a stock receipt at
offset 0 of a fresh partition, never delivered for 180 s while the partition's high watermark
said 1). Every `TAIL_CHECK_S` each stage compares, per assigned partition, the next offset it
has to process with the high watermark; a gap that has not moved for `STUCK_AFTER_S` is read
straight from Kafka and applied, under the same lock as the stream, so the two never interleave.

A bug (not bad input, which each stage dead-letters) stops the worker (ops/crashes.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from faust import StreamT

from agents.refetch import fetch_range
from app import app
from ops.crashes import fatal
from ops.offsets import HoleDetector

Process = Callable[[Any], Awaitable[None]]
TAIL_CHECK_S = 15.0
STUCK_AFTER_S = 45.0
log = logging.getLogger("omnistream.stage")


class Stage:
    def __init__(self, name: str) -> None:
        self.name = name
        self.holes = HoleDetector(name)
        self.topics: frozenset[str] = frozenset()
        self.process: Process | None = None
        self.lock = asyncio.Lock()
        self.done: dict[tuple[str, int], int] = {}  # last offset processed, per partition
        self.gaps: dict[tuple[str, int], tuple[int, int, float]] = {}  # (next, high watermark, since)
        STAGES.append(self)

    def forget_positions(self) -> None:
        """After a rebalance the next offset of a partition may legitimately be anywhere."""
        self.holes.forget()
        self.done.clear()
        self.gaps.clear()

    async def run(self, stream: StreamT, process: Process) -> None:
        # a test's in-memory channel has no topics: nothing to check there
        self.topics, self.process = frozenset(getattr(stream.channel, "topics", ())), process
        async for event in stream.events():
            message = event.message
            async with self.lock:
                skipped = self.holes.saw(message.topic, message.partition, message.offset)
                if skipped:
                    for record in await fetch_range(message.topic, message.partition, skipped):
                        await self._guarded(process, record)
                await self._guarded(process, message)
                self.done[(message.topic, message.partition)] = message.offset

    async def heal_tails(self, consumer: Any, now: float) -> None:
        """Read and apply a partition's unread tail that has not moved for `STUCK_AFTER_S`."""
        if self.process is None:
            return
        for tp in consumer.assignment():
            if tp.topic not in self.topics:
                continue
            highwater, key = consumer.highwater(tp), (tp.topic, tp.partition)
            done = self.done.get(key)
            start = done + 1 if done is not None else (consumer._committed_offset.get(tp) or 0)
            if highwater is None or start >= highwater:
                self.gaps.pop(key, None)
                continue
            seen = self.gaps.get(key)
            if seen is None or seen[:2] != (start, highwater):
                self.gaps[key] = (start, highwater, now)  # a gap that moves is a backlog, not a stall
                continue
            if now - seen[2] < STUCK_AFTER_S:
                continue
            async with self.lock:
                if self.done.get(key) != done:  # the stream moved meanwhile
                    continue
                log.warning("%s: %s[%d] offsets %d..%d unread for %.0f s: reading them straight from Kafka",
                            self.name, tp.topic, tp.partition, start, highwater - 1, now - seen[2])
                for record in await fetch_range(tp.topic, tp.partition, range(start, highwater)):
                    self.holes.saw(record.topic, record.partition, record.offset)
                    await self._guarded(self.process, record)
                    self.done[key] = record.offset
                self.gaps.pop(key, None)

    async def _guarded(self, process: Process, message: Any) -> None:
        try:
            await process(message)
        except Exception as err:  # a bug, not bad input: see ops/crashes.py
            fatal(self.name, message.topic, message.partition, message.offset, err)


STAGES: list[Stage] = []


@app.timer(interval=TAIL_CHECK_S)
async def heal_stuck_partitions() -> None:
    """Every stage's tail check (see the module's docstring). Never while the group rebalances or
    tables recover: a record applied to a half-recovered table would decide on wrong state."""
    if app.rebalancing or not app.tables.recovery.completed.is_set():
        for stage in STAGES:
            stage.gaps.clear()  # the stall clock starts again once the worker is settled
        return
    for stage in STAGES:
        await stage.heal_tails(app.consumer, time.monotonic())
