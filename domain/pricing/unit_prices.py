"""Each basket line's unit price: the first price list with a price, then the member price if lower. Pure.

Lists in precedence: `node:<node>`, `region:<region>` (when the context has a region),
`channel:<channel>`, `base`. A `tier:<tier>` price (when the context has a tier) replaces that
price when it is lower, or stands alone when no other list prices the SKU. A SKU with no price
on any list is not priced (the caller lists it as unknown, never charges it 0). A SKU the book
has no description of has no category and counts as promotable.

What a lookup found is memoised on the book (cleared by every record the book applies) with the
span of time it holds for, so a warm till resolves a line with one dict lookup: per SKU for the
SKUs only the base list prices (most of them), per SKU and the context's lists that price it for
the others (a SKU with a `channel:web` price has two answers, not one per store and tier).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.pricing.basket import Basket, BasketLine, PricingContext
from domain.pricing.book import PriceBook

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
MEMO_ANSWERS = 200_000  # (SKU, lists) answers remembered before starting afresh

# start, end (the span it holds for), unit price or None, its list, category, promotable
Found = tuple[datetime, datetime, int | None, str, str, bool]


@dataclass(slots=True)
class Line:
    """A priced basket line, as the pricing function works on it."""

    line_no: int
    sku: str
    quantity: int
    unit: int
    price_list: str
    gross: int
    category: str
    promotable: bool


def price_lists(context: PricingContext) -> tuple[str, ...]:
    """The lists a context's prices come from, first wins (the tier list apart)."""
    lists = [f"node:{context.node}"]
    if context.region:
        lists.append(f"region:{context.region}")
    return (*lists, f"channel:{context.channel}", "base")


def priced_lines(basket: Basket, context: PricingContext, book: PriceBook) -> tuple[list[Line], tuple[str, ...]]:
    """The basket's lines that have a price, in line_no order, and the SKUs that have none."""
    memo: dict[str | tuple[str, ...], Found] = book.memo.setdefault("unit_prices", {})
    if len(memo) >= MEMO_ANSWERS:
        memo.clear()
    listed = _listed(book)
    wanted: tuple[str, ...] = ()
    at = context.at
    lines: list[Line] = []
    unknown: list[str] = []
    for bl in sorted(basket.lines, key=_by_line_no) if len(basket.lines) > 1 else basket.lines:
        sku = bl.sku
        own = listed.get(sku)
        key: str | tuple[str, ...] = sku
        if own is not None:
            wanted = wanted or _wanted(context)
            key = (sku, *(list_id for list_id in wanted if list_id in own))
        found = memo.get(key)
        if found is None or not found[0] <= at < found[1]:
            found = memo[key] = lookup(book, sku, context)
        unit = found[2]
        if unit is None:
            unknown.append(sku)
        else:
            lines.append(Line(bl.line_no, sku, bl.quantity, unit, found[3], unit * bl.quantity, found[4], found[5]))
    return lines, tuple(sorted(set(unknown)))


def _by_line_no(line: BasketLine) -> int:
    return line.line_no


def _wanted(context: PricingContext) -> tuple[str, ...]:
    """Every list a context reads, its tier list last: which of them price a SKU decides its answer."""
    lists = price_lists(context)
    return (*lists, f"tier:{context.tier}") if context.tier else lists


def _listed(book: PriceBook) -> dict[str, set[str]]:
    """For each SKU some list other than `base` prices, those lists: its answer depends on the context."""
    listed: dict[str, set[str]] | None = book.memo.get("unit_prices_listed")
    if listed is None:
        listed = book.memo["unit_prices_listed"] = {}
        for list_id, sku in book.prices:
            if list_id != "base":
                listed.setdefault(sku, set()).add(list_id)
    return listed


def lookup(book: PriceBook, sku: str, context: PricingContext) -> Found:
    """The unit price of `sku` in `context` at its moment, and the span of time that answer holds for."""
    start, end, unit, list_id = _first(book, sku, price_lists(context), context.at)
    if context.tier:
        t_start, t_end, member, tier_list = _first(book, sku, (f"tier:{context.tier}",), context.at)
        start, end = max(start, t_start), min(end, t_end)
        if member is not None and (unit is None or member < unit):
            unit, list_id = member, tier_list
    product = book.product(sku)
    category, promotable = (product.category, product.promotable) if product else ("", True)
    return start, end, unit, list_id, category, promotable


def _first(book: PriceBook, sku: str, lists: tuple[str, ...],
           at: datetime) -> tuple[datetime, datetime, int | None, str]:
    start, end = EARLIEST, LATEST
    for list_id in lists:
        entries = book.prices.get((list_id, sku))
        if not entries:
            continue
        i = bisect_right(entries, at, key=lambda e: e[0])
        if i < len(entries):
            end = min(end, entries[i][0])
        if i:
            return max(start, entries[i - 1][0]), end, entries[i - 1][1], list_id
    return start, end, None, ""
