"""Budgets and coupon uses: refused holds, per-customer limits, offline leases, what each use needs."""

from __future__ import annotations

from domain.pricing.budgets import budget_accounts, coupon_accounts
from domain.pricing.price import price
from streams.pricing import Budget, Coupon
from tests.unit.pricing_factories import AT, basket, book, catalogue, context, lease, promotion

ITEMS = catalogue({"SKU-A": (1000, "food")})
MONEY = Budget(money_cents=1_000_000)
MONEY_AND_COUNT = Budget(money_cents=1_000_000, count=100, scope="store", period="day")


def test_an_online_budgeted_promotion_needs_its_discount_and_one_use_with_the_limits() -> None:
    promo = promotion("P", percent=10, budget=MONEY_AND_COUNT)
    result = price(basket(("SKU-A", 1)), context(), book(ITEMS, promo))
    money, count = budget_accounts(promo, "store-1", None, AT)
    assert [(n.account, n.node, n.kind, n.amount, n.limit, n.lease_id) for n in result.needs] == [
        (money.sku, "store-1", "money", 100, 1_000_000, None), (count.sku, "store-1", "count", 1, 100, None)]


def test_a_coupon_use_needs_one_of_each_coupon_account() -> None:
    promo = promotion("P", percent=10, coupon=Coupon(codes=["SPRING"], uses_total=50, uses_per_code=1))
    result = price(basket(("SKU-A", 1), codes=["SPRING"]), context(), book(ITEMS, promo))
    assert [(n.account, n.kind, n.amount, n.limit) for n in result.needs] == [
        (a.sku, "coupon", 1, a.limit) for a in coupon_accounts(promo, "SPRING", None)]


def test_a_money_need_is_capped_and_so_is_the_discount() -> None:
    dear = catalogue({"SKU-Z": (500_000, "tv")})
    result = price(basket(("SKU-Z", 1)), context(), book(dear, promotion("P", percent=50, budget=MONEY)))
    assert result.discount_cents == 100_000 and result.needs[0].amount == 100_000


def test_a_refused_promotion_is_priced_without_and_listed_as_budget_refused() -> None:
    result = price(basket(("SKU-A", 1)), context(refused=frozenset({"P"})), book(ITEMS, promotion("P", percent=10)))
    assert result.discount_cents == 0 and [(r.promotion_id, r.reason) for r in result.rejected] == [
        ("P", "budget_refused")]


def test_a_per_customer_limit_needs_a_known_customer() -> None:
    per_customer = promotion("P", percent=10, budget=Budget(count=1, scope="customer"))
    anonymous = price(basket(("SKU-A", 1)), context(), book(ITEMS, per_customer))
    assert anonymous.rejected[0].reason == "needs_customer"
    assert price(basket(("SKU-A", 1)), context(customer_id="C-1"), book(ITEMS, per_customer)).applied


def test_offline_a_budgeted_promotion_applies_from_a_lease_that_covers_it() -> None:
    promo = promotion("P", percent=10, budget=MONEY)
    (account,) = budget_accounts(promo, "store-1", None, AT)
    covered = context(offline=True, leases=(lease(account.sku, 100, lease_id="L-7"),))
    result = price(basket(("SKU-A", 1)), covered, book(ITEMS, promo))
    assert [(n.amount, n.lease_id) for n in result.needs] == [(100, "L-7")]


def test_offline_without_a_lease_or_with_too_little_left_the_promotion_needs_the_centre() -> None:
    promo = promotion("P", percent=10, budget=MONEY)
    (account,) = budget_accounts(promo, "store-1", None, AT)
    for leases in ((), (lease(account.sku, 99),), (lease(account.sku, 500, node="store-2"),)):
        result = price(basket(("SKU-A", 1)), context(offline=True, leases=leases), book(ITEMS, promo))
        assert result.discount_cents == 0 and result.rejected[0].reason == "needs_centre"


def test_offline_a_per_customer_account_is_never_leased() -> None:
    promo = promotion("P", percent=10, coupon=Coupon(codes=["SPRING"], per_customer=1))
    accounts = coupon_accounts(promo, "SPRING", "C-1")
    leases = tuple(lease(a.sku, 10, lease_id=f"L-{i}") for i, a in enumerate(accounts))
    ctx = context(offline=True, customer_id="C-1", leases=leases)
    result = price(basket(("SKU-A", 1), codes=["SPRING"]), ctx, book(ITEMS, promo))
    assert result.rejected[0].reason == "needs_centre"


def test_offline_a_promotion_without_limits_applies_as_usual() -> None:
    result = price(basket(("SKU-A", 1)), context(offline=True), book(ITEMS, promotion("P", percent=10)))
    assert result.discount_cents == 100 and result.needs == ()
