"""runtime.producer_fixes: aiokafka's per-record futures come from the running loop, looked up once."""

from __future__ import annotations

import asyncio
from unittest.mock import patch

from aiokafka.producer.message_accumulator import MessageBatch

from runtime import producer_fixes


def test_a_batchs_futures_belong_to_the_loop_that_runs_which_is_looked_up_once() -> None:
    producer_fixes.install()
    producer_fixes.install()  # twice is harmless
    assert MessageBatch.append.__defaults__[0] is producer_fixes.create_future  # type: ignore[index]

    async def futures() -> tuple[bool, int]:
        producer_fixes.create_future()  # learns this thread's loop
        loop = asyncio.get_running_loop()
        # the lookup whose C code calls getpid() on 3.11 is not made again
        with patch.object(asyncio, "get_running_loop", side_effect=AssertionError("looked up again")):
            made = [producer_fixes.create_future() for _ in range(100)]
        return all(f.get_loop() is loop for f in made), len(made)

    assert asyncio.run(futures()) == (True, 100)
    assert asyncio.run(futures()) == (True, 100)  # a second loop in the same thread is picked up
