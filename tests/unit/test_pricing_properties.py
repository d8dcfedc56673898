"""Invariants of price() over generated books and baskets: money adds up, order does not matter."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.pricing.basket import Basket, BasketLine, PricedBasket
from domain.pricing.price import price
from streams.pricing import BundlePart, PromotionDefined
from tests.unit.pricing_factories import basket, book, catalogue, context, group, promotion

SKUS = {f"SKU-{i}": (cents, "food" if i % 2 else "toys") for i, cents in enumerate([5, 99, 250, 1000, 1999, 12345])}
GROUPS = [group("stacked", 1), group("best", 2, "best"), group("first", 3, "first_match"),
          group("alone", 4, exclusive=True)]
TEMPLATES: list[dict[str, Any]] = [
    {"kind": "percent_off", "percent": 15}, {"kind": "percent_off", "percent": 100},
    {"kind": "percent_off", "target": "order", "percent": 7}, {"kind": "amount_off", "amount_cents": 130},
    {"kind": "amount_off", "target": "order", "amount_cents": 999}, {"kind": "fixed_price", "price_cents": 199},
    {"kind": "buy_x_get_y", "buy": 2, "get": 1, "percent": 100}, {"kind": "spend_x_get_y", "threshold_cents": 500,
                                                                    "amount_cents": 300},
    {"kind": "bundle_price", "price_cents": 300, "bundle": [BundlePart(categories=["food"], quantity=1),
                                                            BundlePart(categories=["toys"], quantity=1)]},
    {"kind": "amount_off", "target": "shipping", "amount_cents": 400}, {"kind": "bonus_points", "points_per_unit": 3},
    {"kind": "percent_off", "percent": 33, "max_applications": 2},
]
ITEM_FILTERS: list[dict[str, Any]] = [{}, {"categories": ["food"]}, {"skus": ["SKU-3", "SKU-5"]}, {"skus": ["SKU-0"]}]


@st.composite
def promotions(draw: st.DrawFn) -> list[PromotionDefined]:
    chosen = draw(st.lists(st.tuples(st.sampled_from(range(len(TEMPLATES))), st.sampled_from(ITEM_FILTERS),
                                     st.sampled_from(["stacked", "best", "first", "alone", "default"]),
                                     st.integers(-2, 2)), max_size=8))
    return [promotion(f"P{i}", group=g, priority=prio, **(TEMPLATES[t] | filters))
            for i, (t, filters, g, prio) in enumerate(chosen)]


baskets = st.builds(
    lambda lines, shipping, currency: (basket(*lines, shipping=shipping), currency),
    st.lists(st.tuples(st.sampled_from([*SKUS, "SKU-X"]), st.integers(1, 5)), min_size=1, max_size=6),
    st.integers(0, 1000), st.sampled_from(["EUR", "CHF"]))


def priced(promos: list[PromotionDefined], lines: Basket, currency: str, **ctx: Any) -> PricedBasket:
    return price(lines, context(currency=currency, **ctx), book(catalogue(SKUS), GROUPS, promos))


@settings(max_examples=150, deadline=None)
@given(promotions(), baskets)
def test_money_adds_up_and_no_net_is_negative_or_above_its_gross(promos: list[PromotionDefined],
                                                                   drawn: tuple[Basket, str]) -> None:
    lines, currency = drawn
    result = priced(promos, lines, currency)
    for line in result.lines:
        assert 0 <= line.net_cents <= line.gross_cents == line.unit_price_cents * line.quantity
        assert line.discount_cents == sum(s.discount_cents for s in line.shares) == line.gross_cents - line.net_cents
    assert result.subtotal_cents == sum(line.gross_cents for line in result.lines)
    assert result.discount_cents == sum(line.discount_cents for line in result.lines) <= result.subtotal_cents
    assert 0 <= result.shipping_cents <= lines.shipping_cents
    assert result.total_cents == result.subtotal_cents - result.discount_cents + result.shipping_cents
    assert sum(a.discount_cents for a in result.applied) == result.discount_cents
    assert len({r.promotion_id for r in result.rejected}) == len(result.rejected)


@settings(max_examples=100, deadline=None)
@given(promotions(), baskets)
def test_the_answer_does_not_depend_on_the_order_of_promotions_or_lines(promos: list[PromotionDefined],
                                                                         drawn: tuple[Basket, str]) -> None:
    lines, currency = drawn
    shuffled = Basket(lines.basket_id, tuple(reversed(lines.lines)), lines.shipping_cents, lines.coupon_codes)
    assert priced(promos, lines, currency) == priced(list(reversed(promos)), shuffled, currency)


@settings(max_examples=100, deadline=None)
@given(promotions(), st.sampled_from(range(len(TEMPLATES))), st.sampled_from(ITEM_FILTERS), baskets)
def test_adding_a_promotion_to_a_best_group_never_makes_the_customer_pay_more(
        promos: list[PromotionDefined], extra: int, filters: dict[str, Any], drawn: tuple[Basket, str]) -> None:
    lines, currency = drawn
    best = [p.model_copy(update={"group": "best"}) for p in promos]
    added = promotion("EXTRA", group="best", **(TEMPLATES[extra] | filters))
    assert priced([*best, added], lines, currency).total_cents <= priced(best, lines, currency).total_cents


@settings(max_examples=100, deadline=None)
@given(promotions(), baskets)
def test_pricing_with_every_promotion_refused_is_pricing_without_promotions(promos: list[PromotionDefined],
                                                                           drawn: tuple[Basket, str]) -> None:
    lines, currency = drawn
    refused = priced(promos, lines, currency, refused=frozenset(p.promotion_id for p in promos))
    bare = priced([], lines, currency)
    assert refused.lines == bare.lines and refused.applied == bare.applied == ()
    assert (refused.subtotal_cents, refused.total_cents, refused.shipping_cents, refused.bonus_points) == (
        bare.subtotal_cents, bare.total_cents, bare.shipping_cents, bare.bonus_points)
    assert {r.reason for r in refused.rejected} <= {"budget_refused", "no_qualifying_items", "below_threshold"}


def test_the_same_line_numbers_priced_twice_give_identical_answers() -> None:
    promos = [promotion("P0", **TEMPLATES[6]), promotion("P1", group="best", **TEMPLATES[0])]
    lines = Basket("B-1", (BasketLine(1, "SKU-3", 3), BasketLine(2, "SKU-1", 1)))
    assert priced(promos, lines, "EUR") == priced(promos, lines, "EUR")
