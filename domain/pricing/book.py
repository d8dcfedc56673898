"""The price book: the state the records of `pricing.book-entries` build, read by the worker and the till alike. Pure.

Both build it with `PriceBook.apply(record, offset)` from the same compacted topic, so at the
same `version` (the offset after the last record applied) they hold the same book and price
every basket the same way. Prices are effective-dated per price list; promotions and groups
keep every version, and the one in force at a moment is the highest version published by then,
so a sale is re-priced with the rules its till had.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from streams.pricing import BookEvent, PriceChanged, ProductDescribed, PromotionDefined, PromotionGroupDefined

DEFAULT_GROUP = PromotionGroupDefined(
    event_id="default-group", occurred_at=datetime.fromisoformat("2000-01-01T00:00:00+00:00"),
    source_node="head-office", group_id="default", version=1, rank=100, mode="stack",
)
# The first promotion shape (`promotion.changed`, percent off SKUs) never stacked: the best one applies.
LEGACY_GROUP = PromotionGroupDefined(
    event_id="legacy-group", occurred_at=datetime.fromisoformat("2000-01-01T00:00:00+00:00"),
    source_node="head-office", group_id="legacy", version=1, rank=90, mode="best",
)


@dataclass(frozen=True, slots=True)
class Product:
    category: str
    promotable: bool


@dataclass(frozen=True)
class BookView:
    """The promotions and groups in force at one moment: the latest version of each published by then."""

    promotions: tuple[PromotionDefined, ...]
    groups: dict[str, PromotionGroupDefined]
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # what pricing derives (its index)


@dataclass
class PriceBook:
    version: int = 0  # the offset after the last record applied: what a till stamps its sales with
    prices: dict[tuple[str, str], list[tuple[datetime, int]]] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    promotions: dict[str, list[PromotionDefined]] = field(default_factory=dict)  # by version
    groups: dict[str, list[PromotionGroupDefined]] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)  # sku or promotion id -> offset of its last change
    _views: dict[tuple[int, int], BookView] = field(default_factory=dict, repr=False)
    _moments: list[datetime] = field(default_factory=list, repr=False)  # when any version was published
    # what pricing looked up (domain/pricing/unit_prices.py); every record applied clears it
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def apply(self, event: BookEvent, offset: int) -> None:
        """Add one record of `pricing.book-entries` read at `offset` (records come in offset order)."""
        self.changed[getattr(event, "promotion_id", None) or getattr(event, "sku", None) or "group"] = offset
        self.memo.clear()
        match event:
            case PriceChanged():
                entries = self.prices.setdefault((event.list_id, event.sku), [])
                _insert(entries, (event.effective_from, event.price_cents))
            case ProductDescribed():
                self.products[event.sku] = Product(event.category, event.promotable)
            case PromotionDefined():
                _versioned(self.promotions.setdefault(event.promotion_id, []), event)
                self._published(event.occurred_at)
            case PromotionGroupDefined():
                _versioned(self.groups.setdefault(event.group_id, []), event)
                self._published(event.occurred_at)
        self.version = max(self.version, offset + 1)

    def price(self, sku: str, lists: tuple[str, ...], at: datetime) -> tuple[int, str] | None:
        """The price in force at `at` on the first of `lists` that has one, and that list."""
        for list_id in lists:
            entries = self.prices.get((list_id, sku))
            if entries:
                i = bisect_right(entries, at, key=lambda e: e[0])
                if i:
                    return entries[i - 1][1], list_id
        return None

    def product(self, sku: str) -> Product | None:
        return self.products.get(sku)

    def in_force(self, at: datetime) -> BookView:
        """Each promotion's and group's latest version published by `at` (cached per book version)."""
        moment = bisect_right(self._moments, at)
        key = (self.version, moment)
        view = self._views.get(key)
        if view is None:
            if len(self._views) > 64:
                self._views.clear()
            promotions = tuple(p for p in (_latest(v, at) for v in self.promotions.values()) if p is not None)
            groups = {g.group_id: g for g in (_latest(v, at) for v in self.groups.values()) if g is not None}
            groups.setdefault("default", DEFAULT_GROUP)
            groups.setdefault("legacy", LEGACY_GROUP)
            view = self._views[key] = BookView(promotions, groups)
        return view

    def promotion(self, promotion_id: str, version: int) -> PromotionDefined | None:
        return next((p for p in self.promotions.get(promotion_id, []) if p.version == version), None)

    def _published(self, at: datetime) -> None:
        _insert(self._moments, at)


def _insert(items: list, item: object) -> None:  # type: ignore[type-arg]
    i = bisect_right(items, item)
    if not (i and items[i - 1] == item):
        items.insert(i, item)


def _versioned(versions: list, event: PromotionDefined | PromotionGroupDefined) -> None:  # type: ignore[type-arg]
    if all(v.version != event.version for v in versions):
        versions.append(event)
        versions.sort(key=lambda v: v.version)


def _latest(versions: list, at: datetime):  # type: ignore[no-untyped-def,type-arg]
    published = [v for v in versions if v.occurred_at <= at]
    return published[-1] if published else None
