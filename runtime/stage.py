"""The loop every stateful agent runs: re-read what Faust jumped over, and never die quietly.

Faust's consumer can jump over records after a restart (docs/inventory-slice.md): a stage
notices the offset jump within a partition and applies the skipped records first, straight
from Kafka; whatever was applied already is recognised by the stage's own exactly-once rules.
A bug (not bad input, which each stage dead-letters) stops the worker (ops/crashes.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faust import StreamT

from ops.crashes import fatal
from runtime.offsets import HoleDetector
from runtime.refetch import fetch_range

Process = Callable[[Any], Awaitable[None]]


class Stage:
    def __init__(self, name: str) -> None:
        self.name = name
        self.holes = HoleDetector(name)

    def forget_positions(self) -> None:
        """After a rebalance the next offset of a partition may legitimately be anywhere."""
        self.holes.forget()

    async def run(self, stream: StreamT, process: Process) -> None:
        async for event in stream.events():
            message = event.message
            skipped = self.holes.saw(message.topic, message.partition, message.offset)
            if skipped:
                for record in await fetch_range(message.topic, message.partition, skipped):
                    await self._guarded(process, record)
            await self._guarded(process, message)

    async def _guarded(self, process: Process, message: Any) -> None:
        try:
            await process(message)
        except Exception as err:  # a bug, not bad input: see ops/crashes.py
            fatal(self.name, message.topic, message.partition, message.offset, err)
