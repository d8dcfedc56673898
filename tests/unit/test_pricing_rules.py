"""Whether a promotion applies at all, and which rejected promotions a basket lists, with which reason."""

from __future__ import annotations

from typing import Any

from domain.pricing.basket import PricedBasket
from domain.pricing.price import price
from streams.pricing import Coupon
from tests.unit.pricing_factories import AT, DAY, basket, book, catalogue, context, promotion

ITEMS = catalogue({"SKU-A": (1000, "food"), "SKU-B": (300, "food"), "SKU-C": (999, "toys")})
FOOD = basket(("SKU-A", 2), ("SKU-B", 3))


def with_promotion(lines: Any = FOOD, ctx: dict[str, Any] | None = None, **fields: Any) -> PricedBasket:
    fields.setdefault("percent", 10)
    return price(lines, context(**(ctx or {})), book(ITEMS, promotion("P", **fields)))


def reasons(result: PricedBasket) -> list[tuple[str, str]]:
    return [(r.promotion_id, r.reason) for r in result.rejected]


def test_an_active_promotion_in_its_window_applies() -> None:
    assert [a.promotion_id for a in with_promotion(skus=["SKU-A"]).applied] == ["P"]


def test_a_promotion_starts_at_its_start_and_stops_at_its_end() -> None:
    assert with_promotion(skus=["SKU-A"], starts=AT).applied
    assert reasons(with_promotion(skus=["SKU-A"], starts=AT - DAY, ends=AT)) == [("P", "ended")]
    assert reasons(with_promotion(skus=["SKU-A"], starts=AT + DAY, ends=AT + 2 * DAY)) == [("P", "not_started")]


def test_an_ended_promotion_is_rejected_as_ended() -> None:
    assert reasons(with_promotion(skus=["SKU-A"], status="ended")) == [("P", "ended")]


def test_a_draft_is_never_live_and_never_listed_against_an_ordinary_basket() -> None:
    result = with_promotion(skus=["SKU-A"], status="draft")
    assert not result.applied and not result.rejected


def test_a_draft_named_by_a_coupon_is_listed_as_draft() -> None:
    result = with_promotion(basket(("SKU-A", 1), codes=["SPRING"]), status="draft", coupon=Coupon(codes=["SPRING"]))
    assert reasons(result) == [("P", "draft")]


def test_channel_node_and_tier_conditions_each_reject_with_their_own_reason() -> None:
    assert reasons(with_promotion(skus=["SKU-A"], channels=["web"])) == [("P", "channel")]
    assert reasons(with_promotion(skus=["SKU-A"], nodes=["store-9"])) == [("P", "node")]
    assert reasons(with_promotion(skus=["SKU-A"], tiers=["gold"])) == [("P", "tier")]
    assert with_promotion(ctx={"tier": "gold"}, skus=["SKU-A"], tiers=["gold"]).applied


def test_a_threshold_counts_the_basket_subtotal_before_discounts() -> None:
    assert reasons(with_promotion(skus=["SKU-A"], min_basket_cents=2901)) == [("P", "below_threshold")]
    assert with_promotion(skus=["SKU-A"], min_basket_cents=2900).applied


def test_a_minimum_quantity_counts_qualifying_units_only() -> None:
    assert reasons(with_promotion(skus=["SKU-A"], min_quantity=3)) == [("P", "below_quantity")]
    assert with_promotion(categories=["food"], min_quantity=5).applied


def test_a_promotion_behind_a_coupon_needs_one_of_its_codes() -> None:
    coupon = Coupon(codes=["SPRING", "SUMMER"])
    assert reasons(with_promotion(skus=["SKU-A"], coupon=coupon)) == [("P", "coupon_missing")]
    assert with_promotion(basket(("SKU-A", 1), codes=["SUMMER"]), skus=["SKU-A"], coupon=coupon).applied


def test_a_code_no_promotion_knows_is_listed_under_the_code() -> None:
    result = with_promotion(basket(("SKU-A", 1), codes=["NOPE1"]), skus=["SKU-A"])
    assert reasons(result) == [("NOPE1", "coupon_unknown")] and result.applied


def test_a_code_already_used_offline_is_used_up() -> None:
    result = with_promotion(basket(("SKU-A", 1), codes=["SPRING"]), {"used_codes": frozenset({"SPRING"})},
                            skus=["SKU-A"], coupon=Coupon(codes=["SPRING"]))
    assert reasons(result) == [("P", "coupon_used_up")]


def test_promotions_for_items_not_in_the_basket_are_not_listed() -> None:
    result = with_promotion(skus=["SKU-C"], channels=["web"])
    assert not result.applied and not result.rejected


def test_a_coupon_for_items_not_in_the_basket_is_listed_as_no_qualifying_items() -> None:
    result = with_promotion(basket(("SKU-A", 1), codes=["TOYS1"]), skus=["SKU-C"], coupon=Coupon(codes=["TOYS1"]))
    assert reasons(result) == [("P", "no_qualifying_items")]


def test_a_promotion_without_item_conditions_is_listed_when_a_condition_fails() -> None:
    assert reasons(with_promotion(channels=["web"])) == [("P", "channel")]


def test_each_rejected_promotion_is_listed_once_with_the_first_reason_in_order() -> None:
    result = with_promotion(skus=["SKU-A"], channels=["web"], tiers=["gold"], min_basket_cents=10**6)
    assert reasons(result) == [("P", "channel")]


def test_a_promotion_defined_after_the_moment_priced_is_not_in_force() -> None:
    result = with_promotion(skus=["SKU-A"], published=AT + DAY)
    assert not result.applied and not result.rejected
