"""Each reward kind and target on a small catalogue: what it takes off, from which lines."""

from __future__ import annotations

from typing import Any

from domain.pricing.basket import PricedBasket
from domain.pricing.price import price
from streams.pricing import BundlePart
from tests.unit.pricing_factories import basket, book, catalogue, context, promotion

ITEMS = catalogue({"SKU-A": (1000, "food"), "SKU-B": (300, "food"), "SKU-C": (999, "toys")})
FOOD = basket(("SKU-A", 2), ("SKU-B", 3))


def priced(kind: str, lines: Any = FOOD, currency: str = "EUR", **fields: Any) -> PricedBasket:
    return price(lines, context(currency=currency), book(ITEMS, promotion("P", kind, **fields)))


def off(result: PricedBasket) -> dict[int, int]:
    return {line.line_no: line.discount_cents for line in result.lines if line.discount_cents}


def test_percent_off_takes_its_share_off_each_qualifying_line() -> None:
    assert off(priced("percent_off", percent=10, skus=["SKU-A"])) == {1: 200}


def test_amount_off_items_takes_the_amount_off_each_unit_never_more_than_the_unit() -> None:
    assert off(priced("amount_off", amount_cents=150, skus=["SKU-B"])) == {2: 450}
    assert off(priced("amount_off", amount_cents=500, skus=["SKU-B"])) == {2: 900}


def test_max_applications_caps_the_units_an_amount_off_applies_to() -> None:
    assert off(priced("amount_off", amount_cents=150, skus=["SKU-B"], max_applications=2)) == {2: 300}


def test_an_order_amount_is_spread_over_the_qualifying_lines_by_value_largest_remainder_first() -> None:
    result = priced("amount_off", target="order", amount_cents=500, categories=["food"])
    assert off(result) == {1: 345, 2: 155}
    assert result.applied[0].line_shares == ((1, 345, 0), (2, 155, 0))


def test_an_order_discount_never_exceeds_the_qualifying_lines_total() -> None:
    result = priced("amount_off", target="order", amount_cents=50_000, categories=["food"])
    assert result.discount_cents == 2900 and all(line.net_cents == 0 for line in result.lines)


def test_fixed_price_sells_each_qualifying_unit_at_its_price() -> None:
    assert off(priced("fixed_price", price_cents=700, skus=["SKU-A"])) == {1: 600}


def test_a_fixed_price_above_the_unit_price_gives_nothing() -> None:
    result = priced("fixed_price", price_cents=2000, skus=["SKU-A"])
    assert result.discount_cents == 0 and result.rejected[0].reason == "nothing_to_discount"


def test_buy_x_get_y_gives_the_cheapest_qualifying_units() -> None:
    result = priced("buy_x_get_y", basket(("SKU-A", 2), ("SKU-B", 1)), buy=2, get=1, percent=100,
                    categories=["food"])
    assert off(result) == {2: 300}


def test_buy_x_get_y_repeats_per_set_up_to_max_applications() -> None:
    six = basket(("SKU-B", 6))
    assert off(priced("buy_x_get_y", six, buy=1, get=1, percent=100, skus=["SKU-B"])) == {1: 900}
    assert off(priced("buy_x_get_y", six, buy=1, get=1, percent=50, skus=["SKU-B"], max_applications=2)) == {1: 300}


def test_buy_x_get_y_without_a_complete_set_is_below_quantity() -> None:
    result = priced("buy_x_get_y", basket(("SKU-B", 2)), buy=2, get=1, percent=100, skus=["SKU-B"])
    assert [r.reason for r in result.rejected] == ["below_quantity"]


def test_a_bundle_costs_its_price_and_the_saving_is_spread_over_its_parts() -> None:
    parts = [BundlePart(skus=["SKU-A"], quantity=1), BundlePart(skus=["SKU-C"], quantity=1)]
    result = priced("bundle_price", basket(("SKU-A", 1), ("SKU-C", 1)), price_cents=1500, bundle=parts)
    assert off(result) == {1: 250, 2: 249}
    assert result.total_cents == 1500


def test_a_bundle_priced_above_its_parts_does_not_apply() -> None:
    parts = [BundlePart(skus=["SKU-A"], quantity=1), BundlePart(skus=["SKU-C"], quantity=1)]
    result = priced("bundle_price", basket(("SKU-A", 1), ("SKU-C", 1)), price_cents=2500, bundle=parts)
    assert result.discount_cents == 0 and [r.reason for r in result.rejected] == ["nothing_to_discount"]


def test_spend_x_get_y_applies_once_the_qualifying_items_reach_the_threshold() -> None:
    assert priced("spend_x_get_y", threshold_cents=2500, amount_cents=500, categories=["food"]).discount_cents == 500
    below = priced("spend_x_get_y", threshold_cents=5000, amount_cents=500, categories=["food"])
    assert below.discount_cents == 0 and below.rejected[0].reason == "below_threshold"


def test_a_shipping_discount_comes_off_the_shipping_only_and_never_beyond_it() -> None:
    shipped = basket(("SKU-A", 1), shipping=495)
    half = priced("percent_off", shipped, target="shipping", percent=50)
    assert (half.discount_cents, half.shipping_cents, half.applied[0].shipping_discount_cents) == (0, 247, 248)
    free = priced("amount_off", shipped, target="shipping", amount_cents=1000)
    assert (free.shipping_cents, free.total_cents) == (0, 1000)


def test_bonus_points_are_spread_over_the_qualifying_lines_by_units_and_discount_nothing() -> None:
    result = priced("bonus_points", points=50, points_per_unit=10, categories=["food"])
    assert result.discount_cents == 0 and result.bonus_points == 100
    assert [line.bonus_points for line in result.lines] == [40, 60]
    assert result.applied[0].line_shares == ((1, 0, 40), (2, 0, 60))


def test_chf_discounts_round_half_up_to_five_centimes() -> None:
    dear = catalogue({"SKU-D": (1270, "food"), "SKU-E": (1240, "food")})
    one = promotion("P", "percent_off", percent=1)
    assert price(basket(("SKU-D", 1)), context(currency="CHF"), book(dear, one)).discount_cents == 15
    assert price(basket(("SKU-E", 1)), context(currency="CHF"), book(dear, one)).discount_cents == 10
    assert price(basket(("SKU-D", 1)), context(currency="EUR"), book(dear, one)).discount_cents == 13


def test_a_discount_that_rounds_to_nothing_is_nothing_to_discount() -> None:
    cheap = catalogue({"SKU-D": (20, "food")})
    result = price(basket(("SKU-D", 1)), context(currency="CHF"), book(cheap, promotion("P", percent=10)))
    assert result.discount_cents == 0 and result.rejected[0].reason == "nothing_to_discount"


def test_a_product_that_is_not_promotable_is_never_discounted() -> None:
    gift = catalogue({"SKU-G": (5000, "cards")}, promotable=False)
    result = price(basket(("SKU-G", 1)), context(), book(gift, promotion("P", percent=10)))
    assert result.discount_cents == 0 and result.rejected[0].reason == "no_qualifying_items"
