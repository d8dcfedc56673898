"""Two fixes to the producers: Faust's is idempotent, and aiokafka 0.14's makes no system call per record.

Faust 0.15 asks for `enable_idempotence` only under exactly-once; with at-least-once a retried
batch (a broker died after writing it, before acknowledging it) is written twice. Every producer
of this project is acks=all and idempotent; `install` makes Faust's (changelogs, agent sends) so too.

Every record appended to a producer batch gets its future from `aiokafka.util.create_future`,
which asks `asyncio.get_event_loop()` for the loop; on 3.11 that checks the process id with a
getpid() system call each time (gone in 3.12). py-spy on the worker in `bench.pipeline`: 4-6 %
of its CPU. Here the loop is looked up once per thread and reused while it runs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

from aiokafka.producer import message_accumulator
from faust.transport.drivers import aiokafka as faust_kafka

_local = threading.local()


def running_loop() -> asyncio.AbstractEventLoop:
    """The running loop of this thread, without a system call once known."""
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or not loop.is_running():  # a new loop (asyncio.run again, another thread's first)
        loop = _local.loop = asyncio.get_running_loop()
    return loop


def create_future(loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Future[Any]:
    return (loop or running_loop()).create_future()


def acknowledged_by_all(self: Any) -> Mapping[str, Any]:
    """Faust's producer settings on top of its defaults: acks=all and idempotence, always."""
    return {"acks": "all", "enable_idempotence": True}


def install() -> None:
    """Idempotent; `MessageBatch.append` binds `create_future` as a default argument."""
    faust_kafka.Producer._settings_extra = acknowledged_by_all  # type: ignore[method-assign]
    append = message_accumulator.MessageBatch.append
    defaults = append.__defaults__
    assert defaults is not None and len(defaults) == 2 and callable(defaults[0]), (
        "aiokafka's MessageBatch.append changed: review runtime/producer_fixes.py")
    append.__defaults__ = (create_future, defaults[1])
    message_accumulator.create_future = create_future
