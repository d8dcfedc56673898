"""Keeps this worker's price book: all of `pricing.book-entries`, read whole from the beginning."""

from __future__ import annotations

import logging
from typing import Any

from runtime.app import app
from runtime.whole import read_whole
from streams.topics import PRICING_BOOK, TopicSpec
from tables.price_book import live_book

log = logging.getLogger("omnistream.pricing")


@app.task
async def watch_price_book() -> None:
    await read_whole("price-book", (PRICING_BOOK,), _apply, _caught_up)


def _caught_up() -> None:
    live_book.caught_up = True
    book = live_book.book
    log.info("price book caught up at version %d: %d prices, %d products, %d promotions", book.version,
             len(book.prices), len(book.products), len(book.promotions))


def _apply(spec: TopicSpec, event: Any, offset: int) -> None:
    live_book.apply(event, offset)
