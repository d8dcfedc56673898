"""Promotions compiled for the hot path, and whether one may apply to a basket at all. Pure.

`Rule` is a `PromotionDefined` flattened into plain sets and numbers once per book view. The
checks a basket meets before any reward is worked out come in a fixed order, and the first that
fails is the promotion's one reason: draft, ended (by status or window), not_started, channel,
node, tier, coupon_missing, coupon_used_up, no_qualifying_items, below_quantity (qualifying
units), below_threshold (`min_basket_cents` on the basket's subtotal before any discount),
budget_refused, needs_customer, needs_centre (offline, a per-customer account: never leased).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.pricing.basket import Lease
from streams.pricing import PromotionDefined

Part = tuple[frozenset[str], frozenset[str], int]  # a bundle part: skus, categories, quantity


@dataclass(eq=False, slots=True)
class Rule:
    """One promotion in force, flattened. Hashed by identity: the index holds one per promotion."""

    promo: PromotionDefined
    promotion_id: str
    version: int
    group: str
    order: int  # position in (group rank, group id, priority high first, promotion id)
    status: str
    starts_at: datetime
    ends_at: datetime
    skus: frozenset[str]
    categories: frozenset[str]
    channels: frozenset[str]
    nodes: frozenset[str]
    tiers: frozenset[str]
    min_basket: int
    min_quantity: int
    codes: frozenset[str]
    limited: bool  # draws on budget or coupon accounts
    money_budget: bool
    per_customer: bool  # a budget or coupon account per customer
    by_store: bool  # a budget account per store
    kind: str
    target: str
    percent: int
    amount: int
    price: int
    buy: int
    get: int
    threshold: int
    points: int
    points_per_unit: int
    max_applications: int | None
    parts: tuple[Part, ...]
    memo: dict[object, Any] = field(default_factory=dict)  # its budget and coupon accounts (domain/pricing/needs.py)

    @property
    def anywhere(self) -> bool:
        """No item condition: every promotable line qualifies."""
        return not (self.skus or self.categories)


def compile_rule(promo: PromotionDefined, group: str, order: int) -> Rule:
    c, r, coupon, budget = promo.conditions, promo.reward, promo.coupon, promo.budget
    parts = tuple((frozenset(p.skus), frozenset(p.categories), p.quantity) for p in r.bundle)
    skus, categories = frozenset(c.skus), frozenset(c.categories)
    if r.kind == "bundle_price" and not (skus or categories) and all(p[0] or p[1] for p in parts):
        skus = frozenset().union(*(p[0] for p in parts))
        categories = frozenset().union(*(p[1] for p in parts))
    coupon_limited = coupon is not None and any(
        x is not None for x in (coupon.uses_total, coupon.uses_per_code, coupon.per_customer))
    return Rule(
        promo=promo, promotion_id=promo.promotion_id, version=promo.version, group=group, order=order,
        status=promo.status, starts_at=promo.starts_at, ends_at=promo.ends_at, skus=skus, categories=categories,
        channels=frozenset(c.channels), nodes=frozenset(c.nodes), tiers=frozenset(c.tiers),
        min_basket=c.min_basket_cents, min_quantity=c.min_quantity,
        codes=frozenset(coupon.codes) if coupon else frozenset(), limited=budget is not None or coupon_limited,
        money_budget=budget is not None and budget.money_cents is not None,
        per_customer=(budget is not None and budget.scope == "customer")
        or (coupon is not None and coupon.per_customer is not None),
        by_store=budget is not None and budget.scope == "store",
        kind=r.kind, target=r.target, percent=r.percent or 0, amount=r.amount_cents or 0, price=r.price_cents or 0,
        buy=r.buy or 0, get=r.get or 0, threshold=r.threshold_cents or 0, points=r.points,
        points_per_unit=r.points_per_unit, max_applications=r.max_applications, parts=parts,
    )


@dataclass(slots=True)
class Facts:
    """What the checks read besides the rule: the context and the basket's totals, once per basket."""

    at: datetime
    channel: str
    node: str
    tier: str | None
    customer_id: str | None
    offline: bool
    refused: frozenset[str]
    codes: frozenset[str]
    used_codes: frozenset[str]
    subtotal: int
    leases: dict[tuple[str, str], Lease]  # offline: the fullest lease per (account, node)


def coupon_code(rule: Rule, facts: Facts) -> str | None:
    """The code the basket redeems for `rule`: the first in order among those given, not yet used."""
    usable = sorted((rule.codes & facts.codes) - facts.used_codes)
    return usable[0] if usable else None


def ineligible(rule: Rule, units: int, facts: Facts, has_qualifying: bool) -> str | None:
    """The first check `rule` fails for this basket (see the module docstring), or None."""
    return context_reason(rule, facts.at, facts.channel, facts.node, facts.tier) or basket_reason(
        rule, units, facts, has_qualifying)


def context_reason(rule: Rule, at: datetime, channel: str, node: str, tier: str | None) -> str | None:
    """The first check `rule` fails that the basket's contents play no part in, or None."""
    if rule.status != "active":
        return "draft" if rule.status == "draft" else "ended"
    if at >= rule.ends_at:
        return "ended"
    if at < rule.starts_at:
        return "not_started"
    if rule.channels and channel not in rule.channels:
        return "channel"
    if rule.nodes and node not in rule.nodes:
        return "node"
    if rule.tiers and tier not in rule.tiers:
        return "tier"
    return None


def basket_reason(rule: Rule, units: int, facts: Facts, has_qualifying: bool) -> str | None:
    """The first check after `context_reason` that `rule` fails for this basket, or None."""
    if rule.codes and not (rule.codes & facts.codes):
        return "coupon_missing"
    if rule.codes and coupon_code(rule, facts) is None:
        return "coupon_used_up"
    return _basket_checks(rule, units, facts, has_qualifying)


def _basket_checks(rule: Rule, units: int, facts: Facts, has_qualifying: bool) -> str | None:
    if not has_qualifying:
        return "no_qualifying_items"
    if units < rule.min_quantity:
        return "below_quantity"
    if facts.subtotal < rule.min_basket:
        return "below_threshold"
    if rule.promotion_id in facts.refused:
        return "budget_refused"
    if rule.per_customer and facts.customer_id is None:
        return "needs_customer"
    if rule.per_customer and facts.offline:
        return "needs_centre"
    return None
