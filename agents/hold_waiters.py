"""In-process bookkeeping for holds: callers waiting for an answer, and SKUs with open holds."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from domain.stock import SkuStock
from streams.holds import HoldAnswered

_waiting: dict[str, list[asyncio.Future[HoldAnswered]]] = defaultdict(list)


def waiter(command_id: str) -> asyncio.Future[HoldAnswered]:
    """A future resolved with the answer to `command_id` (read-your-writes for HTTP callers)."""
    future: asyncio.Future[HoldAnswered] = asyncio.get_running_loop().create_future()
    _waiting[command_id].append(future)
    return future


def forget(command_id: str, future: asyncio.Future[HoldAnswered]) -> None:
    futures = _waiting.get(command_id, [])
    if future in futures:
        futures.remove(future)
    if not futures:
        _waiting.pop(command_id, None)


def answered(answer: HoldAnswered) -> None:
    for future in _waiting.pop(answer.command_id, []):
        if not future.done():
            future.set_result(answer)


class ExpiryIndex:
    """Earliest open-hold expiry per SKU owned here, so the timer need not scan the table."""

    def __init__(self) -> None:
        self.earliest: dict[str, datetime] = {}
        self.valid = False

    def note(self, stock: SkuStock) -> None:
        due = [h.expires_at for h in stock.holds.values() if h.status == "granted"]
        if due:
            self.earliest[stock.sku] = min(due)
        else:
            self.earliest.pop(stock.sku, None)

    def rebuild(self, stocks: Iterable[SkuStock]) -> None:
        self.earliest.clear()
        for stock in stocks:
            self.note(stock)
        self.valid = True

    def invalidate(self) -> None:
        self.valid = False

    def due(self, now: datetime) -> list[str]:
        return sorted(sku for sku, at in self.earliest.items() if at <= now)


expiry_index = ExpiryIndex()
