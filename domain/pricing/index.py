"""The promotions of a book view indexed by what they can touch: SKU, category, coupon code. Pure.

Built once per `BookView` and kept in its memo, so pricing a basket looks at the promotions its
lines can trigger, the ones with no item condition, and the ones its coupon codes name, nothing
else. Drafts are reachable by their coupon codes only: a draft is never live and never listed
against an ordinary basket.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.pricing.basket import RejectedPromotion
from domain.pricing.book import BookView
from domain.pricing.rules import Rule, compile_rule, context_reason
from domain.pricing.unit_prices import Line

MEMO_CONTEXTS = 10_000  # (channel, node, tier, span) verdicts remembered before starting afresh


@dataclass(frozen=True, slots=True)
class Group:
    group_id: str
    rank: int
    mode: str  # stack, first_match, best
    exclusive: bool


@dataclass(frozen=True, slots=True)
class Index:
    rules: tuple[Rule, ...]  # in Rule.order
    by_sku: dict[str, tuple[Rule, ...]]
    by_category: dict[str, tuple[Rule, ...]]
    anywhere: tuple[Rule, ...]
    by_code: dict[str, tuple[Rule, ...]]
    groups: dict[str, Group]
    moments: tuple[datetime, ...] = ()  # every start and end of a rule: context verdicts hold between two
    rejections: dict[tuple[str, str], RejectedPromotion] = field(default_factory=dict)  # made once, shared
    contexts: dict[tuple[str, str, str | None, int], dict[Rule, str | None]] = field(default_factory=dict)

    def rejected(self, promotion_id: str, reason: str) -> RejectedPromotion:
        found = self.rejections.get((promotion_id, reason))
        if found is None:
            if len(self.rejections) > 100_000:
                self.rejections.clear()
            found = self.rejections[(promotion_id, reason)] = RejectedPromotion(promotion_id, reason)
        return found

    def verdicts(self, at: datetime, channel: str, node: str, tier: str | None) -> dict[Rule, str | None]:
        """Each rule's `context_reason` in this context, worked out once per context and span of time."""
        key = (channel, node, tier, bisect_right(self.moments, at))
        found = self.contexts.get(key)
        if found is None:
            if len(self.contexts) > MEMO_CONTEXTS:
                self.contexts.clear()
            found = self.contexts[key] = {r: context_reason(r, at, channel, node, tier) for r in self.rules}
        return found


def index_for(view: BookView) -> Index:
    """The view's index, built on first use."""
    index = view.memo.get("index")
    if index is None:
        index = view.memo["index"] = build(view)
    return index  # type: ignore[no-any-return]


def build(view: BookView) -> Index:
    groups = {g.group_id: Group(g.group_id, g.rank, g.mode, g.exclusive) for g in view.groups.values()}

    def placed(promo_group: str) -> Group:
        return groups.get(promo_group) or groups["default"]

    ordered = sorted(view.promotions, key=lambda p: (
        placed(p.group).rank, placed(p.group).group_id, -p.priority, p.promotion_id))
    rules = tuple(compile_rule(p, placed(p.group).group_id, i) for i, p in enumerate(ordered))
    by_sku: dict[str, list[Rule]] = {}
    by_category: dict[str, list[Rule]] = {}
    by_code: dict[str, list[Rule]] = {}
    for rule in rules:
        for code in rule.codes:
            by_code.setdefault(code, []).append(rule)
        if rule.status == "draft":
            continue
        for sku in rule.skus:
            by_sku.setdefault(sku, []).append(rule)
        for category in rule.categories:
            by_category.setdefault(category, []).append(rule)
    anywhere = tuple(r for r in rules if r.anywhere and r.status != "draft")
    moments = tuple(sorted({r.starts_at for r in rules} | {r.ends_at for r in rules}))
    return Index(rules, _frozen(by_sku), _frozen(by_category), anywhere, _frozen(by_code), groups, moments)


def touched(index: Index, lines: Sequence[Line]) -> dict[Rule, list[int]]:
    """Each promotion some line can trigger, with the positions of the lines it matches (in order)."""
    hits: dict[Rule, list[int]] = {}
    for pos, line in enumerate(lines):
        for rule in index.by_sku.get(line.sku, ()):
            got = hits.get(rule)
            if got is None:
                hits[rule] = [pos]
            else:
                got.append(pos)
        for rule in index.by_category.get(line.category, ()):
            got = hits.get(rule)
            if got is None:
                hits[rule] = [pos]
            elif got[-1] != pos:
                got.append(pos)
    if lines and index.anywhere:
        every = list(range(len(lines)))
        for rule in index.anywhere:
            hits[rule] = every
    return hits


def _frozen(lists: dict[str, list[Rule]]) -> dict[str, tuple[Rule, ...]]:
    return {key: tuple(rules) for key, rules in lists.items()}
