"""What one promotion does to a basket's current nets: its rounded, allocated, budget-checked outcome. Pure.

The reward's exact discount is rounded to the currency's increment (domain/pricing/money.py),
kept within the nets it touches (the shipping left, for a shipping reward) and within
MAX_MONEY_NEED when a money budget limits it, then spread over the lines by its weights. A
discount of 0 after all that is nothing_to_discount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.pricing.basket import BudgetNeed
from domain.pricing.money import allocate, round_half_up
from domain.pricing.needs import MAX_MONEY_NEED, needs
from domain.pricing.rewards import REWARDS, points_of, shipping
from domain.pricing.rules import Facts, Rule, coupon_code
from domain.pricing.unit_prices import Line


@dataclass(slots=True)
class State:
    """The nets the groups so far left: per line position, and the shipping."""

    nets: list[int]
    shipping: int

    def copy(self) -> State:
        return State(self.nets.copy(), self.shipping)


@dataclass(slots=True)
class Basis:
    """What stays the same while a basket's promotions are tried: its lines, facts and rounding step."""

    lines: Sequence[Line]
    facts: Facts
    step: int


@dataclass(slots=True)
class Outcome:
    rule: Rule
    positions: list[int]
    discounts: list[int]
    points: list[int]
    shipping: int
    needs: tuple[BudgetNeed, ...] = ()

    @property
    def saving(self) -> int:
        return sum(self.discounts) + self.shipping

    def apply(self, state: State) -> None:
        for p, d in zip(self.positions, self.discounts, strict=True):
            state.nets[p] -= d
        state.shipping -= self.shipping


def evaluate(rule: Rule, qual: Sequence[int], state: State, basis: Basis) -> Outcome | str:
    """What `rule` gives on `state` (not changed), or why it gives nothing."""
    if rule.kind == "bonus_points":
        return _points(rule, qual, basis)
    if rule.target == "shipping":
        raw, cap = shipping(rule, state.shipping), state.shipping
    else:
        found = REWARDS[rule.kind](rule, qual, basis.lines, state.nets)
        if isinstance(found, str):
            return found
        raw, cap = found, sum(state.nets[p] for p, _ in found.weights)
    total = min(round_half_up(raw.num, raw.den, basis.step), cap)
    if rule.money_budget:
        total = min(total, MAX_MONEY_NEED)
    if total <= 0:
        return "nothing_to_discount"
    if rule.target == "shipping":
        return _drawn(Outcome(rule, [], [], [], total), basis.facts, total)
    positions = [p for p, _ in raw.weights]
    discounts = allocate(total, [w for _, w in raw.weights], [state.nets[p] for p in positions])
    return _drawn(Outcome(rule, positions, discounts, [0] * len(positions), 0), basis.facts, total)


def _points(rule: Rule, qual: Sequence[int], basis: Basis) -> Outcome | str:
    total = points_of(rule, qual, basis.lines)
    if rule.money_budget:
        total = min(total, MAX_MONEY_NEED)
    points = allocate(total, [basis.lines[p].quantity for p in qual])
    return _drawn(Outcome(rule, list(qual), [0] * len(qual), points, 0), basis.facts, total)


def _drawn(outcome: Outcome, facts: Facts, amount: int) -> Outcome | str:
    rule = outcome.rule
    if not rule.limited:
        return outcome
    drawn = needs(rule, facts, coupon_code(rule, facts) if rule.codes else None, amount)
    if isinstance(drawn, str):
        return drawn
    outcome.needs = drawn
    return outcome
