"""`price(basket, context, book)`: the one pure pricing function every till and worker calls.

Unit prices come from the price lists (domain/pricing/unit_prices.py); the promotions in force
at `context.at` that the basket can touch are checked (domain/pricing/rules.py), their rewards
worked out (rewards.py, outcome.py) and combined by group (stacking.py); money is integer cents
rounded per currency (money.py); budget and coupon needs come with each applied promotion
(needs.py).

Which rejected promotions are listed, once each with the first reason that applies: every
promotion a coupon code of the basket names (a code no promotion knows is listed as
coupon_unknown under the code itself), and every non-draft promotion with a line its SKUs or
categories match (a promotion with no item condition matches every line). Promotions none of
whose items are in the basket are not listed. Output lines are in line_no order, applied
promotions in the order they applied, rejections by (promotion id, reason): the answer does not
depend on the order of the basket's lines or of the book's records.
"""

from __future__ import annotations

from operator import attrgetter

from domain.pricing.basket import (
    AppliedPromotion,
    Basket,
    PricedBasket,
    PricedLine,
    PriceShare,
    PricingContext,
    RejectedPromotion,
)
from domain.pricing.book import PriceBook
from domain.pricing.index import Group, Index, index_for, touched
from domain.pricing.money import increment
from domain.pricing.needs import fullest_leases
from domain.pricing.outcome import Basis, Outcome, State
from domain.pricing.rules import Facts, basket_reason
from domain.pricing.stacking import Member, Rejection, settle
from domain.pricing.unit_prices import Line, priced_lines

_by_order = attrgetter("order")
_by_id = attrgetter("promotion_id", "reason")


def price(basket: Basket, context: PricingContext, book: PriceBook) -> PricedBasket:
    """The basket priced in `context` with the book as it stands (its version stamps the answer)."""
    index = index_for(book.in_force(context.at))
    lines, unknown = priced_lines(basket, context, book)
    codes = frozenset(basket.coupon_codes)
    facts = Facts(
        at=context.at, channel=context.channel, node=context.node, tier=context.tier,
        customer_id=context.customer_id, offline=context.offline, refused=context.refused, codes=codes,
        used_codes=context.used_codes, subtotal=sum(line.gross for line in lines),
        leases=fullest_leases(context.leases) if context.offline else {},
    )
    runs, rejected = _candidates(index, lines, facts)
    unknown_codes = [index.rejected(code, "coupon_unknown") for code in codes if code not in index.by_code]
    base = State([line.gross for line in lines], basket.shipping_cents)
    kept, lost = settle(runs, base, Basis(lines, facts, increment(context.currency)))
    rejected.extend(lost)
    known = index.rejections
    listed = [known.get((rule.promotion_id, reason)) or index.rejected(rule.promotion_id, reason)
              for rule, reason in rejected] + unknown_codes
    listed.sort(key=_by_id)
    return _priced(basket, context, book.version, lines, unknown, kept, tuple(listed))


def _candidates(index: Index, lines: list[Line], facts: Facts) -> tuple[list[tuple[Group, list[Member]]],
                                                                      list[Rejection]]:
    """The promotions that may apply, by group in (rank, group id) order, and the ones that may not."""
    hits = touched(index, lines)
    for code in facts.codes:
        for rule in index.by_code.get(code, ()):
            hits.setdefault(rule, [])
    qual_all = [p for p, line in enumerate(lines) if line.promotable]
    units_all = sum(lines[p].quantity for p in qual_all)
    verdicts = index.verdicts(facts.at, facts.channel, facts.node, facts.tier)
    rejected: list[Rejection] = []
    runs: dict[str, list[Member]] = {}
    for rule in sorted(hits, key=_by_order):
        reason = verdicts[rule]
        if reason is not None:
            rejected.append((rule, reason))
            continue
        matched = hits[rule]
        if len(matched) == len(lines):
            qual, units = qual_all, units_all
        else:
            qual = [p for p in matched if lines[p].promotable]
            units = sum(lines[p].quantity for p in qual)
        reason = basket_reason(rule, units, facts, bool(qual))
        if reason is None:
            runs.setdefault(rule.group, []).append((rule, qual))
        else:
            rejected.append((rule, reason))
    return [(index.groups[g], members) for g, members in runs.items()], rejected


def _priced(basket: Basket, context: PricingContext, version: int, lines: list[Line], unknown: tuple[str, ...],
            kept: list[Outcome], rejected: tuple[RejectedPromotion, ...]) -> PricedBasket:
    """The answer, built once: each line's discount and points added up as the shares are made."""
    n = len(lines)
    shares: list[list[PriceShare]] = [[] for _ in range(n)] if kept else []
    line_off = [0] * n
    line_points = [0] * n
    applied = []
    shipping_off = 0
    for o in kept:
        promotion_id = o.rule.promotion_id
        parts = []
        off = points = 0
        for p, d, pts in zip(o.positions, o.discounts, o.points, strict=True):
            if d or pts:
                shares[p].append(PriceShare(promotion_id, d, pts))
                parts.append((lines[p].line_no, d, pts))
                line_off[p] += d
                line_points[p] += pts
                off += d
                points += pts
        shipping_off += o.shipping
        applied.append(AppliedPromotion(
            promotion_id, o.rule.version, o.rule.kind, o.rule.group, off, points, tuple(parts), o.shipping, o.needs))
    out = tuple(
        PricedLine(line.line_no, line.sku, line.quantity, line.unit, line.price_list, line.gross, line_off[p],
                   line.gross - line_off[p], line_points[p], tuple(shares[p]) if kept and shares[p] else ())
        for p, line in enumerate(lines))
    subtotal = sum(line.gross for line in lines)
    discount = sum(line_off)
    shipping = basket.shipping_cents - shipping_off
    return PricedBasket(
        basket.basket_id, version, context.currency, out, tuple(applied), rejected, subtotal, discount, shipping,
        subtotal - discount + shipping, sum(line_points), unknown)
