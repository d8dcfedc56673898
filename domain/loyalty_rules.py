"""The central earn rules and tiers. Pure.

Points for a purchase line = floor(net value in currency units × base rate × tier multiplier
× promotion multiplier), zero for excluded SKUs (gift cards, tobacco, ...). A promotion's
bonus points for the line (from its sale's pricing stamp) are added to them as they are, in
the same lot. A returned part of a line claws back its share of the whole lot, rounded up, so
that returning the whole line claws back exactly what it earned and a partial return never
leaves the customer ahead.

A tier follows from the qualifying spend of the last 365 days (net of returns): the highest
threshold reached. `SpendWindow` keeps the spend per day, which is also what explains a tier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

Tier = str
WINDOW_DAYS = 365


@dataclass(frozen=True)
class EarnRules:
    points_per_unit: int = 1  # per currency unit (100 cents) of net line value
    tier_multipliers: dict[Tier, float] = field(default_factory=lambda: {"base": 1.0, "silver": 1.25, "gold": 1.5})
    tier_thresholds_cents: dict[Tier, int] = field(
        default_factory=lambda: {"base": 0, "silver": 50_000, "gold": 150_000}
    )
    excluded_skus: frozenset[str] = frozenset()


def points_for_line(net_cents: int, sku: str, tier: Tier, rules: EarnRules, promotion_multiplier: float = 1.0) -> int:
    if sku in rules.excluded_skus or net_cents <= 0:
        return 0
    multiplier = rules.tier_multipliers.get(tier, 1.0) * promotion_multiplier
    # Integer arithmetic on cents first, so 19.99 at 1.25x never drifts by a float's last bit.
    scaled = net_cents * rules.points_per_unit * round(multiplier * 10_000)
    return scaled // (100 * 10_000)


def clawback_points(line_points: int, purchased_quantity: int, returned_quantity: int) -> int:
    """The returned units' share of the line's points, rounded up (never more than the line)."""
    if purchased_quantity <= 0:
        return line_points
    share = math.ceil(line_points * min(returned_quantity, purchased_quantity) / purchased_quantity)
    return min(line_points, share)


def tier_for(spend_cents: int, rules: EarnRules) -> Tier:
    reached = [(threshold, tier) for tier, threshold in rules.tier_thresholds_cents.items() if spend_cents >= threshold]
    return max(reached)[1] if reached else "base"


@dataclass(frozen=True)
class SpendWindow:
    """Qualifying spend per day over the last 365 days (returns subtract on their own day)."""

    by_day: tuple[tuple[date, int], ...] = ()

    def add(self, day: date, cents: int, today: date) -> SpendWindow:
        days = dict(self.by_day)
        days[day] = days.get(day, 0) + cents
        start = today - timedelta(days=WINDOW_DAYS - 1)
        return SpendWindow(tuple(sorted((d, c) for d, c in days.items() if d >= start)))

    def total(self, today: date) -> int:
        start = today - timedelta(days=WINDOW_DAYS - 1)
        return max(0, sum(c for d, c in self.by_day if start <= d <= today))


def rules_from(points_per_unit: int, thresholds: dict[str, str], multipliers: dict[str, str],
               excluded: frozenset[str] = frozenset()) -> EarnRules:
    """The rules from settings' `tier:value` pairs; a tier without a multiplier earns at 1x."""
    try:
        cents = {tier: int(v) for tier, v in thresholds.items()}
        factors = {tier: float(v) for tier, v in multipliers.items()}
    except ValueError as err:
        raise ValueError(f"OMNI_TIER_THRESHOLDS / OMNI_TIER_MULTIPLIERS must be tier:number pairs: {err}") from err
    cents.setdefault("base", 0)
    return EarnRules(points_per_unit=points_per_unit, tier_multipliers={t: factors.get(t, 1.0) for t in cents},
                     tier_thresholds_cents=cents, excluded_skus=excluded)
