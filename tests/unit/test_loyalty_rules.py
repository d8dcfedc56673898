"""Earn rules, clawback shares and tiers."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.loyalty_rules import EarnRules, SpendWindow, clawback_points, points_for_line, tier_for

RULES = EarnRules(excluded_skus=frozenset({"SKU-GIFTCARD"}))


def test_points_are_the_net_value_in_units_times_the_multipliers_rounded_down() -> None:
    assert points_for_line(1_999, "SKU-1", "base", RULES) == 19
    assert points_for_line(1_999, "SKU-1", "silver", RULES) == 24  # 19.99 x 1.25 = 24.99
    assert points_for_line(1_999, "SKU-1", "gold", RULES, promotion_multiplier=2.0) == 59  # 19.99 x 3
    assert points_for_line(5_000, "SKU-GIFTCARD", "gold", RULES) == 0
    assert points_for_line(0, "SKU-1", "gold", RULES) == 0


@given(st.integers(1, 1_000), st.integers(1, 50), st.integers(0, 60))
def test_returning_a_whole_line_claws_back_exactly_its_points_and_parts_never_more(points, bought, returned) -> None:
    back = clawback_points(points, bought, returned)
    assert 0 <= back <= points
    if returned >= bought:
        assert back == points
    # Returning in two parts never claws back less than returning at once would leave earned.
    first, total = min(returned, bought) // 2, min(returned, bought)
    assert clawback_points(points, bought, first) + clawback_points(points, bought, total - first) >= back


def test_the_tier_is_the_highest_threshold_the_rolling_spend_reaches() -> None:
    assert tier_for(0, RULES) == "base"
    assert tier_for(49_999, RULES) == "base"
    assert tier_for(50_000, RULES) == "silver"
    assert tier_for(200_000, RULES) == "gold"


def test_spend_older_than_365_days_no_longer_counts_and_returns_subtract() -> None:
    day = date(2026, 1, 10)
    window = SpendWindow().add(day, 120_000, day).add(day + timedelta(days=200), 40_000, day + timedelta(days=200))
    assert window.total(day + timedelta(days=200)) == 160_000
    assert tier_for(window.total(day + timedelta(days=200)), RULES) == "gold"
    window = window.add(day + timedelta(days=210), -30_000, day + timedelta(days=210))  # a return
    assert window.total(day + timedelta(days=210)) == 130_000
    assert window.total(day + timedelta(days=365)) == 10_000  # the first purchase fell out of the window
    assert tier_for(window.total(day + timedelta(days=365)), RULES) == "base"
