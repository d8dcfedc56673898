"""The price book the simulated tills and checkout keep, and baskets priced with it as a real till does.

Every price book event the day publishes is applied at the moment it is published, in publish
order with a running offset, as a till following `pricing.book-entries` would (the router
books a `promotion.changed` as a `promotion.defined`). The local offset stands in for the
topic's, so a stamp's `snapshot_version` approximates the real one. The simulator asks for no
budget or coupon holds, so every promotion with a budget or a coupon counts as refused: it
never applies, and a stamp carries no budget uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.pricing.answer import stamp_for
from domain.pricing.basket import Basket, BasketLine, PricedBasket, PricingContext
from domain.pricing.book import PriceBook
from domain.pricing.price import price
from domain.pricing.routing import book_entries_for
from streams.base import Event
from streams.pricing import Channel, PromotionDefined
from streams.redemptions import PricingStamp

Wanted = Sequence[tuple[str, int]]  # (sku, quantity) per line, line_no from 1


@dataclass
class LocalBook:
    """The book built from the day's own `pricing.changes`, updated one event at a time."""

    book: PriceBook = field(default_factory=PriceBook)
    offset: int = 0  # the next book entry's offset
    refused: frozenset[str] = frozenset()  # promotions with a budget or a coupon

    def publish(self, event: Event) -> None:
        """Apply a `pricing.changes` event as it is published (other events change nothing)."""
        for entry in book_entries_for(event):
            self.book.apply(entry, self.offset)
            self.offset += 1
            if isinstance(entry, PromotionDefined) and (entry.budget is not None or entry.coupon is not None):
                self.refused = self.refused | {entry.promotion_id}

    def checkout(self, basket_id: str, wanted: Wanted, at: datetime, channel: Channel, node: str,
                 shipping_cents: int = 0) -> tuple[PricedBasket, PricingStamp]:
        """The basket priced at `at` in the channel and node, and the stamp its sale or order carries."""
        basket = Basket(basket_id, tuple(BasketLine(n, sku, quantity) for n, (sku, quantity) in enumerate(wanted, 1)),
                        shipping_cents)
        context = PricingContext(at=at, channel=channel, node=node, refused=self.refused)
        priced = price(basket, context, self.book)
        return priced, stamp_for(priced, context, (), {})
