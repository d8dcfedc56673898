"""The promotion backtest's replay: baskets priced with the book and with the book plus a draft. Pure.

Each basket is priced twice by the same pricing function, once with the book as it was and once
with the draft promotion added as active, so every difference is the draft's doing: its own
discount and points, and what it changed in the other promotions (stacking: a `best` group may
now pick it, an `exclusive` group may lose, a later group sees lower prices). The draft's budget
is kept as the stock authority would keep it (domain/pricing/budgets.py accounts, a use taking
its discount and one basket): once an account cannot cover a use, that basket is priced again
with the draft refused, as checkout does when a budget hold is refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.pricing.basket import AppliedPromotion, Basket, PricedBasket, PricingContext
from domain.pricing.book import PriceBook
from domain.pricing.budgets import budget_accounts
from streams.pricing import BookEvent, PromotionDefined

Pricer = Callable[[Basket, PricingContext, PriceBook], PricedBasket]
Progress = Callable[[int], None]


def books(entries: Iterable[BookEvent], draft: PromotionDefined) -> tuple[PriceBook, PriceBook]:
    """The book the records build, and the same with the draft added after them, active."""
    before, after = PriceBook(), PriceBook()
    offset = -1
    for offset, entry in enumerate(entries):
        before.apply(entry, offset)
        after.apply(entry, offset)
    after.apply(draft.model_copy(update={"status": "active"}), offset + 1)
    return before, after


@dataclass
class Budget:
    """The draft's budget accounts as the replay uses them: what each account took, and when one ran out."""

    draft: PromotionDefined
    used: dict[str, int] = field(default_factory=dict)  # account name -> money cents or baskets
    limits: dict[str, int] = field(default_factory=dict)
    exhausted_at: dict[str, datetime] = field(default_factory=dict)
    refused: int = 0

    def take(self, context: PricingContext, discount_cents: int) -> bool:
        """Book one use if every account can cover it; False (refused) if one cannot."""
        accounts = budget_accounts(self.draft, context.node, context.customer_id, context.at)
        wants = [(a, discount_cents if a.kind == "money" else 1) for a in accounts]
        short = [a for a, amount in wants if self.used.get(a.name, 0) + amount > a.limit]
        if short:
            self.refused += 1
            for a in short:  # it cannot cover a use any more: exhausted for this basket on
                self.limits[a.name] = a.limit
                self.exhausted_at.setdefault(a.name, context.at)
            return False
        for a, amount in wants:
            self.limits[a.name] = a.limit
            self.used[a.name] = self.used.get(a.name, 0) + amount
            if self.used[a.name] >= a.limit:
                self.exhausted_at.setdefault(a.name, context.at)
        return True


@dataclass
class Replay:
    """What the replay counted; `analytics.promotion_backtest` turns it into the report."""

    baskets: int = 0
    with_draft: int = 0  # baskets the draft applied to
    changed: int = 0  # baskets whose total changed
    draft_discount_cents: int = 0
    draft_points: int = 0
    unknown_skus: int = 0  # baskets with a SKU priced on no list (those lines are not priced)
    first_at: datetime | None = None
    last_at: datetime | None = None
    replaced_discount_cents: int = 0  # what the draft's id gave before, when the draft is a new version of it
    before: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # other promotions' discount
    after: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    budget: Budget | None = None


def replay(baskets: Sequence[tuple[Basket, PricingContext]], entries: Iterable[BookEvent], draft: PromotionDefined,
           pricer: Pricer, progress: Progress | None = None) -> Replay:
    """Price every basket with and without the draft, in the order given (the budget is spent in that order)."""
    book, drafted = books(entries, draft)
    out = Replay(budget=Budget(draft) if draft.budget is not None else None)
    for n, (basket, context) in enumerate(baskets, 1):
        _one(out, basket, context, book, drafted, draft.promotion_id, pricer)
        if progress is not None and (n % 100 == 0 or n == len(baskets)):
            progress(100 if n % 100 == 0 else n % 100)
    return out


def _one(out: Replay, basket: Basket, context: PricingContext, book: PriceBook, drafted: PriceBook, draft_id: str,
         pricer: Pricer) -> None:
    before = pricer(basket, context, book)
    after = pricer(basket, context, drafted)
    mine = next((a for a in after.applied if a.promotion_id == draft_id), None)
    if mine is not None and out.budget is not None and not out.budget.take(context, mine.discount_cents):
        after = pricer(basket, replace(context, refused=context.refused | {draft_id}), drafted)
        mine = None
    out.baskets += 1
    out.first_at = out.first_at or context.at
    out.last_at = context.at
    out.unknown_skus += bool(after.unknown_skus)
    out.changed += (before.total_cents, before.bonus_points) != (after.total_cents, after.bonus_points)
    if mine is not None:
        out.with_draft += 1
        out.draft_discount_cents += _discount(mine)
        out.draft_points += mine.bonus_points
    for applied in before.applied:
        if applied.promotion_id == draft_id:
            out.replaced_discount_cents += _discount(applied)
        else:
            out.before[applied.promotion_id] += _discount(applied)
    for applied in after.applied:
        if applied.promotion_id != draft_id:
            out.after[applied.promotion_id] += _discount(applied)


def _discount(applied: AppliedPromotion) -> int:
    return applied.discount_cents + applied.shipping_discount_cents
