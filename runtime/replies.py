"""HTTP callers waiting for a stage's answer to the command they published (read-your-writes).

One registry for every stage that answers: holds (`HoldAnswered`) and wallets
(`PointsAnswered`) alike, keyed by the command's `event_id`, which every answer carries as
`command_id`. The view registers before it publishes; the stage resolves it when it answers.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, Protocol


class Answer(Protocol):
    command_id: str


_waiting: dict[str, list[asyncio.Future[Any]]] = defaultdict(list)


def waiter(command_id: str) -> asyncio.Future[Any]:
    """A future resolved with the answer to `command_id`."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    _waiting[command_id].append(future)
    return future


def forget(command_id: str, future: asyncio.Future[Any]) -> None:
    futures = _waiting.get(command_id, [])
    if future in futures:
        futures.remove(future)
    if not futures:
        _waiting.pop(command_id, None)


def answered(answer: Answer) -> None:
    for future in _waiting.pop(answer.command_id, []):
        if not future.done():
            future.set_result(answer)
