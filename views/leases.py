"""Budget leases over HTTP: a slice of a promotion's chain or store budget held for one store's tills offline.

`POST /pricing/leases/` takes `views/requests.py` LeaseRequest (valid_s at most 7 days)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from faust.web import Request, Response, View

from domain.pricing.basket import BudgetNeed, PricingContext
from domain.pricing.budgets import budget_accounts, coupon_accounts
from runtime.app import app, clock, settings
from tables.price_book import live_book
from views import body
from views.budget_holds import place_budget_hold
from views.checkout import opened, opening_of
from views.pricing import unavailable
from views.requests import LeaseRequest


@app.page("/pricing/leases/")
class LeaseBudgetView(View):
    """A slice of a promotion's chain or store budget and coupon uses, held for one store's tills to spend
    offline until `valid_s` (the hold outlives it by OMNI_PRICING_LEASE_GRACE_S, so late offline sales still
    meet it; what is left when it expires goes back to the account)."""

    async def post(self, request: Request) -> Response:
        if (busy := unavailable(self)) is not None:
            return busy
        try:
            asked = await body.read(request, LeaseRequest)
        except body.BodyError as err:
            return body.refuse(self, err)
        store, promotion_id, money, uses = asked.store, asked.promotion_id, asked.money_cents, asked.uses
        valid = timedelta(seconds=asked.valid_s)
        now = clock.now()
        versions = live_book.book.promotions.get(promotion_id)
        if not versions or versions[-1].status != "active":
            return self.json({"error": f"no active promotion {promotion_id}"}, status=404)
        promo = versions[-1]
        leasable = promo.budget is not None and promo.budget.scope != "customer"
        accounts = budget_accounts(promo, store, None, now) if leasable else []
        if promo.coupon is not None and promo.coupon.uses_total is not None:
            accounts += [a for a in coupon_accounts(promo, promo.coupon.codes[0], None) if "|total" in a.name]
        codes = (promo.coupon.codes[0],) if promo.coupon is not None else ()
        # The till names its request (`lease_no`, retried alike); two tills' requests never share a lease
        lease_no = asked.lease_no or uuid.uuid4().hex[:12]  # 8 to 32 letters and digits, new for each request
        leases = []
        for account in accounts:
            amount = money if account.kind == "money" else uses
            if amount <= 0:
                continue
            need = BudgetNeed(promotion_id, account.sku, account.node, account.kind, min(amount, 100_000),
                              account.limit)
            lease_id = f"lease/{store}/{lease_no}/{account.sku}"
            key, receipts = opening_of(need, PricingContext(at=now, channel="store", node=store), codes)
            answer, status = await place_budget_hold(lease_id, f"lease/{store}", need, receipts,
                                                     valid + timedelta(seconds=settings.pricing_lease_grace_s))
            if status in (201, 409):
                opened.add(key)
            leases.append({"lease_id": lease_id, "promotion_id": promotion_id, "account": account.sku,
                           "node": account.node, "kind": account.kind,
                           "amount": answer.get("quantity", need.amount),
                           "valid_until": (now + valid).isoformat(), "answer": answer.get("answer", "unknown"),
                           "reason": answer.get("reason")})
        return self.json({"store": store, "leases": leases}, status=201 if leases else 404)
