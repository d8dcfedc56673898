"""HTTP callers waiting for a stage's answer to the command they published (read-your-writes), and backpressure.

One registry for every stage that answers: holds (`HoldAnswered`) and wallets
(`PointsAnswered`) alike, keyed by the command's `event_id`, which every answer carries as
`command_id`. The view registers before it publishes; the stage resolves it when it answers.

Backpressure: a command published is also counted on its lane (topic, partition) until its
answer arrives, even after its caller gave up (504). `behind(lane, limit_s)` is how long the
oldest unanswered command of the lane has waited, when that is over `limit_s`: the views then
answer 503 at once instead of publishing a command that would be answered too late. A command
whose answer never comes (its partition moved to another worker) stops counting after
`STALE_FACTOR` times the limit, so a lost answer cannot shut a lane for good.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any, Protocol

from aiokafka.partitioner import murmur2

from streams.base import Event
from streams.topics import TopicSpec

Lane = tuple[str, int]  # (topic, partition)
STALE_FACTOR = 6.0


class Answer(Protocol):
    command_id: str


_waiting: dict[str, list[asyncio.Future[Any]]] = defaultdict(list)
_unanswered: dict[Lane, dict[str, float]] = defaultdict(dict)  # lane -> command id -> published at (monotonic)
_lane_of: dict[str, Lane] = {}


def lane(spec: TopicSpec, event: Event) -> Lane:
    """The partition `event` is published to on `spec` (the producer's murmur2 of its key)."""
    return spec.name, (murmur2(spec.key_for(event)) & 0x7FFFFFFF) % spec.partitions


def waiter(command_id: str) -> asyncio.Future[Any]:
    """A future resolved with the answer to `command_id`."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    _waiting[command_id].append(future)
    return future


def sent(command_id: str, on: Lane, at: float | None = None) -> None:
    """`command_id` was published on lane `on`: it counts as unanswered there until answered."""
    _unanswered[on][command_id] = time.monotonic() if at is None else at
    _lane_of[command_id] = on


def behind(on: Lane, limit_s: float, now: float | None = None) -> float:
    """Seconds the oldest unanswered command of the lane has waited, if over `limit_s`; else 0."""
    pending = _unanswered.get(on)
    if not pending:
        return 0.0
    now = time.monotonic() if now is None else now
    for command_id, at in list(pending.items()):  # oldest first: dicts keep insertion order
        waited = now - at
        if waited <= STALE_FACTOR * limit_s:
            return waited if waited > limit_s else 0.0
        del pending[command_id]  # its answer is not coming here
        _lane_of.pop(command_id, None)
    return 0.0


def forget(command_id: str, future: asyncio.Future[Any]) -> None:
    futures = _waiting.get(command_id, [])
    if future in futures:
        futures.remove(future)
    if not futures:
        _waiting.pop(command_id, None)


def answered(answer: Answer) -> None:
    on = _lane_of.pop(answer.command_id, None)
    if on is not None:
        _unanswered[on].pop(answer.command_id, None)
    for future in _waiting.pop(answer.command_id, []):
        if not future.done():
            future.set_result(answer)
