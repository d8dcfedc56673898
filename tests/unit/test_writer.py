"""The sink's DuckDB thread: jobs one at a time, in order, their results counted before the next starts."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from analytics.writer import WriterThread


def test_jobs_run_one_at_a_time_in_order_and_each_is_counted_before_the_next_starts() -> None:
    running = threading.Lock()
    seen: list[str] = []

    def job(name: str) -> str:
        assert running.acquire(blocking=False), "two jobs at once"
        try:
            time.sleep(0.01)
            seen.append(f"ran {name}")
            return name
        finally:
            running.release()

    async def main() -> None:
        writer = WriterThread()
        try:
            for name in "abc":
                await writer.run(lambda name=name: job(name), lambda result, at: seen.append(f"counted {result}"))
            await writer.settled()
        finally:
            writer.close()

    asyncio.run(main())
    assert seen == ["ran a", "counted a", "ran b", "counted b", "ran c", "counted c"]


def test_a_failed_job_is_raised_by_settled_and_not_counted() -> None:
    counted: list[object] = []

    def fail() -> None:
        raise RuntimeError("disk full")

    async def main() -> None:
        writer = WriterThread()
        try:
            await writer.run(fail, lambda result, at: counted.append(result))
            with pytest.raises(RuntimeError, match="disk full"):
                await writer.settled()
        finally:
            writer.close()

    asyncio.run(main())
    assert counted == []
