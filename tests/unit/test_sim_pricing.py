"""Simulated tills and checkout price with the day's own price book: the centre re-prices them alike."""

from __future__ import annotations

from collections import Counter

import pytest

from domain.pricing.book import PriceBook
from domain.pricing.routing import book_entries_for, redemptions_for
from domain.pricing.variance import variances
from sim.config import SimConfig
from sim.day import simulate
from sim.fraud import FraudCase
from sim.state import Emission
from streams.orders import OrderPlaced
from streams.pos import PosSale
from streams.pricing import PriceChanged, PromotionDefined
from streams.redemptions import PricingVariance, RedeemPromotions
from streams.topics import PRICING_CHANGES

# Small enough that most SKUs get a published price during the day (opening prices are not events).
CONFIG = SimConfig(events=4_100, seed=5, stores=12, skus=80, customers=400, fraud=0.004)


@pytest.fixture(scope="module")
def labelled() -> tuple[list[Emission], list[FraudCase]]:
    labels: list[FraudCase] = []
    return list(simulate(CONFIG, labels, b"k")), labels


def centre_book(day: list[Emission]) -> PriceBook:
    """The book the centre holds at the day's end: every published book entry, in publish order."""
    book = PriceBook()
    entries = [entry for spec, _, event in day if spec is PRICING_CHANGES for entry in book_entries_for(event)]
    for offset, entry in enumerate(entries):
        book.apply(entry, offset)
    return book


def sales(day: list[Emission]) -> list[PosSale]:
    return [event for _, _, event in day if isinstance(event, PosSale)]


def day_variances(day: list[Emission], as_it_stood: bool = False) -> list[PricingVariance]:
    """Every sale re-priced with the day's whole book, or (`as_it_stood`) with the book as it
    stood when the sale was published, as the live centre re-prices it."""
    book = PriceBook() if as_it_stood else centre_book(day)
    offset, out = 0, []
    for spec, _, event in day:
        if as_it_stood and spec is PRICING_CHANGES:
            for entry in book_entries_for(event):
                book.apply(entry, offset)
                offset += 1
        if isinstance(event, PosSale):
            (command,) = redemptions_for(event)
            assert isinstance(command, RedeemPromotions)
            out += variances(command, book)
    return out


def below_central(labels: list[FraudCase]) -> set[str]:
    return {case.match[0] for case in labels if case.rule == "till_price_below_central"}


def test_repricing_a_days_stamped_sales_finds_only_the_deliberate_below_central_lines(labelled) -> None:  # type: ignore[no-untyped-def]
    day, labels = labelled
    found = day_variances(day)
    assert below_central(labels)
    assert {v.receipt_id.split("/")[1] for v in found} == below_central(labels)
    assert all(v.variance_cents < 0 and v.quantity == 1 for v in found)


def test_the_live_centre_sees_overrides_as_such_and_tampered_prices_as_unexplained(labelled) -> None:  # type: ignore[no-untyped-def]
    day, labels = labelled
    found = day_variances(day, as_it_stood=True)
    overridden = {e.receipt_id for _, _, e in day if isinstance(e, PosSale) and e.lines[0].price_overridden}
    assert overridden and {v.receipt_id.split("/")[1] for v in found} == below_central(labels)
    for v in found:
        assert v.cause == ("price_override" if v.receipt_id.split("/")[1] in overridden else "unexplained")


def test_the_repricing_compares_most_sale_lines(labelled) -> None:  # type: ignore[no-untyped-def]
    day, _ = labelled
    book = centre_book(day)
    lines = [line for sale in sales(day) for line in sale.lines]
    priced = [line for sale in sales(day) for line in sale.lines
              if book.price(line.sku, (f"node:{sale.source_node}", "base"), sale.occurred_at) is not None]
    assert len(priced) > len(lines) // 2


def test_every_sale_and_order_is_stamped_and_its_discounts_are_the_stamps(labelled) -> None:  # type: ignore[no-untyped-def]
    day, labels = labelled
    purchases = [event for _, _, event in day if isinstance(event, PosSale | OrderPlaced)]
    for purchase in purchases:
        assert purchase.pricing is not None
        shares = Counter[int]()
        for promotion in purchase.pricing.promotions:
            assert not promotion.budget
            for share in promotion.lines:
                shares[share.line_no] += share.discount_cents
        if getattr(purchase, "receipt_id", None) not in below_central(labels):
            assert [line.discount_cents for line in purchase.lines] == [shares[line.line_no] for line in purchase.lines]


def test_catalogue_and_legacy_promotions_apply_and_budgeted_or_coupon_ones_never(labelled) -> None:  # type: ignore[no-untyped-def]
    day, _ = labelled
    defined = [e for _, _, e in day if isinstance(e, PromotionDefined)]
    refused = {p.promotion_id for p in defined if p.budget is not None or p.coupon is not None}
    applied = Counter(p.promotion_id.split("-")[0] for _, _, e in day if isinstance(e, PosSale | OrderPlaced)
                      for p in e.pricing.promotions)  # type: ignore[union-attr]
    assert not refused & set(applied)
    assert {"GARDEN15", "TOYS3FOR2", "pr"} <= set(applied)


def test_a_price_changed_mid_day_prices_the_next_sales_of_its_sku(labelled) -> None:  # type: ignore[no-untyped-def]
    day, labels = labelled
    central: dict[str, int] = {}
    own: set[tuple[str, str]] = set()  # (sku, store) with a store price of its own
    checked = 0
    for _, _, event in day:
        if isinstance(event, PriceChanged):
            if event.node is None:
                central[event.sku] = event.price_cents
            else:
                own.add((event.sku, event.node))
        elif isinstance(event, PosSale) and event.receipt_id not in below_central(labels):
            for line in event.lines:
                if line.sku in central and (line.sku, event.source_node) not in own:
                    checked += 1
                    assert line.unit_price_cents == central[line.sku]
    assert checked > 100
