"""The sink's DuckDB work, one job at a time on one thread, so the loop decodes meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


class WriterThread:
    """Runs DuckDB jobs (a batch's transaction, a snapshot) on one thread, in the order given, each
    starting only when the previous one has finished: DuckDB releases the GIL, so the asyncio loop
    decodes the next batch meanwhile, and the single connection is never used by two at once."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="sink-duckdb")
        self.job: asyncio.Future[Any] | None = None

    async def run(self, work: Callable[[], T], then: Callable[[T, float], None]) -> None:
        """Start `work` once the job in flight has finished. `then(result, finished_at)` runs on the
        loop when it succeeds; `finished_at` is the wall time it finished, not when the loop noticed."""
        await self.settled()
        self.job = asyncio.get_running_loop().run_in_executor(self.pool, _finished, work)
        self.job.add_done_callback(partial(_then, then))

    async def settled(self) -> None:
        """Wait for the job in flight, whose `then` has run by then; its error, if any, is raised here."""
        if self.job is not None:
            job, self.job = self.job, None
            await job

    def close(self) -> None:
        self.pool.shutdown()


def _finished(work: Callable[[], T]) -> tuple[T, float]:
    return work(), time.time()


def _then(then: Callable[[T, float], None], job: asyncio.Future[tuple[T, float]]) -> None:
    if not job.cancelled() and job.exception() is None:
        then(*job.result())
