"""What an applied promotion draws on: its budget and coupon accounts, with the amounts. Pure.

Amounts: a money account takes the promotion's discount in cents (shipping included; for a
bonus_points promotion, its points), a count account 1, a coupon account 1. One money need is
at most MAX_MONEY_NEED cents (the most a budget use carries), so a promotion with a money budget
never gives more than that in one basket: its discount is capped there, not refused.

Online, each need is held by the checkout. Offline, each account needs a lease for it at its
node whose remaining covers the amount (the fullest such lease, ties to the lower lease id), or
the promotion waits for the centre (needs_centre); per-customer accounts are never leased.
"""

from __future__ import annotations

from datetime import UTC

from domain.pricing.basket import BudgetNeed, Lease
from domain.pricing.budgets import Account, budget_accounts, coupon_accounts
from domain.pricing.rules import Facts, Rule

MAX_MONEY_NEED = 100_000
MEMO_ACCOUNTS = 10_000  # per rule, before starting afresh


def needs(rule: Rule, facts: Facts, code: str | None, amount: int) -> tuple[BudgetNeed, ...] | str:
    """The needs of one use of `rule` giving `amount`, or needs_centre offline without a lease that covers it."""
    out = []
    for account in accounts(rule, facts, code):
        need = amount if account.kind == "money" else 1
        lease_id = None
        if facts.offline:
            lease = facts.leases.get((account.sku, account.node))
            if lease is None or lease.remaining < need or _per_customer(account):
                return "needs_centre"
            lease_id = lease.lease_id
        out.append(BudgetNeed(rule.promotion_id, account.sku, account.node, account.kind, need, account.limit,
                              lease_id))
    return tuple(out)


def accounts(rule: Rule, facts: Facts, code: str | None) -> list[Account]:
    """Budget accounts then coupon accounts, memoised on the rule (their names are hashed) by what
    they depend on: the store and the customer only for the rules whose accounts name them."""
    day = facts.at.astimezone(UTC).date()
    key = (facts.node if rule.by_store else None, facts.customer_id if rule.per_customer else None, day, code)
    found: list[Account] | None = rule.memo.get(key)
    if found is None:
        if len(rule.memo) >= MEMO_ACCOUNTS:
            rule.memo.clear()
        found = budget_accounts(rule.promo, facts.node, facts.customer_id, facts.at)
        if code is not None:
            found = found + coupon_accounts(rule.promo, code, facts.customer_id)
        rule.memo[key] = found
    return found


def fullest_leases(leases: tuple[Lease, ...]) -> dict[tuple[str, str], Lease]:
    """For each (account, node), the lease with the most remaining (ties to the lower lease id)."""
    out: dict[tuple[str, str], Lease] = {}
    for lease in sorted(leases, key=lambda x: (-x.remaining, x.lease_id)):
        out.setdefault((lease.account, lease.node), lease)
    return out


def _per_customer(account: Account) -> bool:
    return account.name.split("|")[2].startswith("customer=")
