"""This worker's price book: all of `pricing.book-entries`, in memory (not a Faust table).

Every worker reads the book whole (`agents/watch_price_book.py`) and prices any basket with
it; the till library builds the same book from the same records (`till/`). Pricing waits until
the book caught up with the topic's end as it was when the worker started.
"""

from __future__ import annotations

from domain.pricing.book import PriceBook
from streams.pricing import BookEvent


class LivePriceBook:
    def __init__(self) -> None:
        self.book = PriceBook()
        self.caught_up = False
        self.records = 0

    def apply(self, event: BookEvent, offset: int) -> None:
        self.book.apply(event, offset)
        self.records += 1


live_book = LivePriceBook()
