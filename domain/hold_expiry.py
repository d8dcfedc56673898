"""Which owned SKUs have a hold that ran out: the earliest open-hold expiry per SKU. Pure.

The stock expiry timer (agents/expire_holds.py) keeps one per worker: noted whenever a SKU's
stock changes, rebuilt from the table after a rebalance.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.stock import SkuStock


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

