"""Unit prices: list precedence, member prices, effective dating, SKUs nobody prices."""

from __future__ import annotations

from domain.pricing.price import price
from tests.unit.pricing_factories import AT, DAY, basket, book, catalogue, context, price_of, product


def unit(sku: str, *events: object, **ctx: object) -> tuple[int, str]:
    priced = price(basket((sku, 1)), context(**ctx), book(*events))  # type: ignore[arg-type]
    line = priced.lines[0]
    return line.unit_price_cents, line.price_list


def test_the_node_list_wins_over_region_channel_and_base() -> None:
    events = [price_of("SKU-1", 500), price_of("SKU-1", 400, "channel:store"), price_of("SKU-1", 300, "region:north"),
              price_of("SKU-1", 450, "node:store-1")]
    assert unit("SKU-1", *events, region="north") == (450, "node:store-1")


def test_the_region_list_wins_over_channel_when_the_context_has_a_region() -> None:
    events = [price_of("SKU-1", 500), price_of("SKU-1", 400, "channel:store"), price_of("SKU-1", 300, "region:north")]
    assert unit("SKU-1", *events, region="north") == (300, "region:north")
    assert unit("SKU-1", *events) == (400, "channel:store")


def test_the_base_list_prices_what_no_other_list_does() -> None:
    assert unit("SKU-1", price_of("SKU-1", 500), price_of("SKU-1", 400, "channel:web")) == (500, "base")


def test_a_member_price_applies_when_lower_than_the_list_price() -> None:
    events = [price_of("SKU-1", 500), price_of("SKU-1", 450, "tier:gold")]
    assert unit("SKU-1", *events, tier="gold") == (450, "tier:gold")
    assert unit("SKU-1", *events) == (500, "base")


def test_a_member_price_above_the_list_price_is_ignored() -> None:
    assert unit("SKU-1", price_of("SKU-1", 500), price_of("SKU-1", 550, "tier:gold"), tier="gold") == (500, "base")


def test_a_price_effective_tomorrow_is_not_used_today() -> None:
    events = [price_of("SKU-1", 500, effective=AT - DAY), price_of("SKU-1", 600, effective=AT + DAY)]
    assert unit("SKU-1", *events) == (500, "base")
    assert unit("SKU-1", *events, at=AT + 2 * DAY) == (600, "base")


def test_the_same_book_prices_by_the_moment_asked_even_after_a_warm_lookup() -> None:
    b = book(price_of("SKU-1", 500, effective=AT - DAY), price_of("SKU-1", 600, effective=AT + DAY))
    assert price(basket(("SKU-1", 1)), context(), b).total_cents == 500
    assert price(basket(("SKU-1", 1)), context(at=AT + DAY), b).total_cents == 600
    assert price(basket(("SKU-1", 1)), context(at=AT - DAY / 2), b).total_cents == 500


def test_a_sku_no_list_prices_is_listed_unknown_and_not_charged() -> None:
    priced = price(basket(("SKU-1", 2), ("SKU-9", 1), ("SKU-8", 3)), context(), book(catalogue({"SKU-1": (250, "f")})))
    assert [line.sku for line in priced.lines] == ["SKU-1"]
    assert priced.unknown_skus == ("SKU-8", "SKU-9")
    assert (priced.subtotal_cents, priced.total_cents) == (500, 500)


def test_a_sku_priced_only_in_the_future_is_unknown_today() -> None:
    priced = price(basket(("SKU-1", 1)), context(), book(price_of("SKU-1", 500, effective=AT + DAY)))
    assert priced.unknown_skus == ("SKU-1",) and priced.lines == ()


def test_a_new_price_applied_to_the_book_is_used_at_once() -> None:
    b = book(price_of("SKU-1", 500), product("SKU-1"))
    assert price(basket(("SKU-1", 1)), context(), b).total_cents == 500
    b.apply(price_of("SKU-1", 450, effective=AT - DAY), b.version)
    assert price(basket(("SKU-1", 1)), context(), b).total_cents == 450


def test_lines_come_out_in_line_number_order_whatever_the_basket_order() -> None:
    b = book(catalogue({"SKU-1": (100, "f"), "SKU-2": (200, "f")}))
    shuffled = basket(("SKU-1", 1), ("SKU-2", 1))
    reversed_basket = type(shuffled)("B-1", tuple(reversed(shuffled.lines)))
    assert price(reversed_basket, context(), b) == price(shuffled, context(), b)
    assert [line.line_no for line in price(reversed_basket, context(), b).lines] == [1, 2]
