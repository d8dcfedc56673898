"""Groups: rank order on the nets earlier groups left, stack / first_match / best, exclusive groups."""

from __future__ import annotations

from domain.pricing.basket import PricedBasket
from domain.pricing.price import price
from tests.unit.pricing_factories import basket, book, catalogue, context, group, promotion

ITEMS = catalogue({"SKU-A": (1000, "food"), "SKU-B": (300, "food")})
ONE_A = basket(("SKU-A", 1))


def applied(result: PricedBasket) -> list[str]:
    return [a.promotion_id for a in result.applied]


def reasons(result: PricedBasket) -> dict[str, str]:
    return {r.promotion_id: r.reason for r in result.rejected}


def test_a_stack_group_applies_every_promotion_in_priority_order_on_what_the_previous_left() -> None:
    b = book(ITEMS, promotion("LOW", percent=10, priority=1), promotion("HIGH", amount_cents=100, kind="amount_off",
                                                                          priority=5))
    result = price(ONE_A, context(), b)
    assert applied(result) == ["HIGH", "LOW"]
    assert result.discount_cents == 100 + 90


def test_later_groups_apply_on_the_nets_earlier_ranks_left() -> None:
    b = book(ITEMS, group("first", 1), group("second", 2), promotion("P2", percent=50, group="second"),
             promotion("P1", "amount_off", amount_cents=200, group="first"))
    result = price(ONE_A, context(), b)
    assert applied(result) == ["P1", "P2"] and result.discount_cents == 200 + 400


def test_first_match_applies_the_highest_priority_that_applies_and_stacks_out_the_rest() -> None:
    b = book(ITEMS, group("g", 1, "first_match"), promotion("TOP", percent=10, priority=9, channels=["web"], group="g"),
             promotion("MID", percent=20, priority=5, group="g"), promotion("LOW", percent=30, priority=1, group="g"))
    result = price(ONE_A, context(), b)
    assert applied(result) == ["MID"] and reasons(result) == {"TOP": "channel", "LOW": "stacked_out"}


def test_best_applies_the_one_that_saves_most() -> None:
    b = book(ITEMS, group("g", 1, "best"), promotion("TEN", percent=10, group="g"),
             promotion("FLAT", "amount_off", amount_cents=150, group="g"), promotion("FIVE", percent=5, group="g"))
    result = price(ONE_A, context(), b)
    assert applied(result) == ["FLAT"] and reasons(result) == {"TEN": "stacked_out", "FIVE": "stacked_out"}


def test_best_breaks_a_tie_by_promotion_id() -> None:
    b = book(ITEMS, group("g", 1, "best"), promotion("ZED", percent=10, group="g"),
             promotion("ABE", "amount_off", amount_cents=100, group="g"))
    assert applied(price(ONE_A, context(), b)) == ["ABE"]


def test_an_exclusive_group_that_saves_more_than_the_others_together_is_kept_alone() -> None:
    b = book(ITEMS, group("vip", 1, exclusive=True), promotion("VIP", percent=40, group="vip"),
             promotion("P10", percent=10), promotion("P20", percent=20))
    result = price(ONE_A, context(), b)
    assert applied(result) == ["VIP"] and result.discount_cents == 400
    assert reasons(result) == {"P10": "exclusive_lost", "P20": "exclusive_lost"}


def test_an_exclusive_group_that_saves_less_is_dropped() -> None:
    b = book(ITEMS, group("vip", 1, exclusive=True), promotion("VIP", percent=25, group="vip"),
             promotion("P10", percent=10), promotion("P20", percent=20))
    result = price(ONE_A, context(), b)
    assert applied(result) == ["P10", "P20"] and result.discount_cents == 100 + 180
    assert reasons(result) == {"VIP": "exclusive_lost"}


def test_a_promotion_in_an_undefined_group_joins_the_default_group() -> None:
    result = price(ONE_A, context(), book(ITEMS, promotion("P", percent=10, group="nowhere")))
    assert result.applied[0].group == "default" and result.discount_cents == 100


def test_lines_carry_each_promotions_share_in_the_order_they_applied() -> None:
    b = book(ITEMS, group("first", 1), promotion("P1", "amount_off", amount_cents=100, group="first"),
             promotion("P2", percent=10))
    shares = price(ONE_A, context(), b).lines[0].shares
    assert [(s.promotion_id, s.discount_cents) for s in shares] == [("P1", 100), ("P2", 90)]
