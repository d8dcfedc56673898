"""Promotion budgets and coupon uses as accounts of the stock authority. Pure.

Each limit is a position of a reserved SKU (`BUD-<digest>-<M|N|C>`: money in cents, a count of
baskets, coupon uses) at a node (`chain`, or the store for a per-store budget). Opening an
account receives its limit into it, once per promotion version (the receipt's id names the
account and the version; the authority remembers movement ids, so opening again is a no-op,
and a raised limit receives the difference). Checkout holds the amount (place, with a TTL),
the sale commits it, returns and cancellations receive their share back, expiry releases it:
the authority's no-oversell promise is the budget's never-overrun promise.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from streams.base import NodeId
from streams.inventory import StockMovement
from streams.pricing import PromotionDefined

PREFIX = "BUD-"
CHAIN: NodeId = "chain"
LETTER = {"money": "M", "count": "N", "coupon": "C"}
MAX_RECEIPT = 10_000_000  # a movement's largest quantity: bigger limits open in several receipts
_SHAPE = re.compile(r"^BUD-[0-9A-F]{16}-[MNC]$")


def is_budget(sku: str) -> bool:
    return sku.startswith(PREFIX) and _SHAPE.match(sku) is not None


def account_sku(name: str, kind: str) -> str:
    digest = hashlib.blake2b(name.encode(), digest_size=8).hexdigest().upper()
    return f"{PREFIX}{digest}-{LETTER[kind]}"


def period_key(period: str, at: datetime) -> str:
    at = at.astimezone(UTC)
    if period == "day":
        return f"{at:%Y-%m-%d}"
    if period == "week":
        year, week, _ = at.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{at:%Y-%m}"
    return "all"


@dataclass(frozen=True, slots=True)
class Account:
    """One limit: `name` says what it is (`<promotion>|<what>|<scope>|<period>`), `sku` and `node` where it lives."""

    name: str
    sku: str
    node: str
    kind: str
    limit: int


def budget_accounts(promo: PromotionDefined, store: str, customer_id: str | None, at: datetime) -> list[Account]:
    """The budget accounts a use of `promo` at `store` by `customer_id` draws on (empty if it has no budget).
    A per-customer budget without a customer cannot be checked: the caller rejects the promotion."""
    budget = promo.budget
    if budget is None:
        return []
    scope = {"global": "chain", "store": f"store={store}", "customer": f"customer={customer_id}"}[budget.scope]
    node = store if budget.scope == "store" else CHAIN
    period = period_key(budget.period, at)
    out = []
    for kind, limit in (("money", budget.money_cents), ("count", budget.count)):
        if limit is not None:
            name = f"{promo.promotion_id}|{kind}|{scope}|{period}"
            out.append(Account(name, account_sku(name, kind), node, kind, limit))
    return out


def coupon_accounts(promo: PromotionDefined, code: str, customer_id: str | None) -> list[Account]:
    """The coupon-use accounts one use of `code` draws on: the promotion's total, the code's own, the customer's."""
    coupon = promo.coupon
    if coupon is None:
        return []
    out = []
    for what, limit in (("total", coupon.uses_total), (f"code={code}", coupon.uses_per_code),
                        (f"customer={customer_id}", coupon.per_customer)):
        if limit is not None:
            name = f"{promo.promotion_id}|coupon|{what}"
            out.append(Account(name, account_sku(name, "coupon"), CHAIN, "coupon", limit))
    return out


def opening(account: Account, versions: list[tuple[int, int]], at: datetime) -> list[StockMovement]:
    """The receipts that bring `account` to its limit at each promotion version (`(version, limit)`,
    ascending): the first version receives its limit, each later one the difference. The ids name
    the account and the version, so sending them again changes nothing."""
    out: list[StockMovement] = []
    before = 0
    for version, limit in versions:
        delta = limit - before
        before = limit
        n = 0
        while delta:
            part = max(-100_000, min(delta, MAX_RECEIPT))
            cause = f"bud-{account.sku}-{account.node}-v{version}"
            out.append(StockMovement(
                event_id=f"{cause}:{n}", occurred_at=at, source_node=account.node, sku=account.sku,
                node=account.node, kind="receipt", quantity=part, cause_event_id=cause, cause_type="budget.opened",
            ))
            delta -= part
            n += 1
    return out


def version_limits(versions: list[PromotionDefined], sku: str, store: str, customer_id: str | None,
                   codes: tuple[str, ...], at: datetime) -> list[tuple[int, int]]:
    """The limit account `sku` had at each version of its promotion (0 where a version had none), for `opening`."""
    out = []
    for promo in versions:
        accounts = budget_accounts(promo, store, customer_id, at)
        accounts += [a for code in codes for a in coupon_accounts(promo, code, customer_id)]
        limit = next((a.limit for a in accounts if a.sku == sku), 0)
        out.append((promo.version, limit))
    return out
