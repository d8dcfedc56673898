"""One fix to aiokafka 0.14's producer on Python 3.11: no system call per record sent.

Every record appended to a producer batch gets its future from `aiokafka.util.create_future`,
which asks `asyncio.get_event_loop()` for the loop; on 3.11 that checks the process id with a
getpid() system call each time (gone in 3.12). py-spy on the worker in `bench.pipeline`: 4-6 %
of its CPU. Here the loop is looked up once per thread and reused while it runs.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiokafka.producer import message_accumulator

_local = threading.local()


def running_loop() -> asyncio.AbstractEventLoop:
    """The running loop of this thread, without a system call once known."""
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or not loop.is_running():  # a new loop (asyncio.run again, another thread's first)
        loop = _local.loop = asyncio.get_running_loop()
    return loop


def create_future(loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Future[Any]:
    return (loop or running_loop()).create_future()


def install() -> None:
    """Idempotent; `MessageBatch.append` binds `create_future` as a default argument."""
    append = message_accumulator.MessageBatch.append
    defaults = append.__defaults__
    assert defaults is not None and len(defaults) == 2 and callable(defaults[0]), (
        "aiokafka's MessageBatch.append changed: review runtime/producer_fixes.py")
    append.__defaults__ = (create_future, defaults[1])
    message_accumulator.create_future = create_future
