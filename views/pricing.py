"""Pricing over HTTP: a basket priced with the central book, and at checkout its budget and coupon holds placed.

`POST /baskets/price/` {basket_id, channel, node, lines: [{line_no, sku, quantity}], coupon_codes?,
customer_id?, tier?, region?, shipping_cents?, hold?, ttl_s?} answers the priced basket
(`domain/pricing/answer.py`, the same rendering as the till's). With `hold: true` (checkout) it
also holds every budget and coupon use on its account (opening the account first, once); a
promotion whose hold is refused is dropped and the basket priced again without it (the granted
holds of that attempt are released), at most three times; the answer then carries `stamp`, the
`pricing` the sale or order must carry so the centre commits the holds. The same basket id
asked again yields the same hold ids, so a retried checkout never holds twice.
`POST /pricing/leases/` {store, promotion_id, money_cents?, uses?, valid_s?, lease_no?} holds a slice
of the promotion's chain or store budget for the store's tills to spend offline.
`GET /pricing/book/` says which book version this worker prices with.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from faust.web import Request, Response, View

from domain.pricing.answer import as_json, basket_from, context_from, stamp_for
from domain.pricing.basket import BudgetNeed, PricingContext
from domain.pricing.budgets import CHAIN, Account, budget_accounts, coupon_accounts, opening, version_limits
from domain.pricing.price import price
from runtime.app import app, clock, settings
from runtime.publish import publish
from streams.holds import ReleaseHold
from streams.redemptions import BasketPriced
from streams.topics import INVENTORY_MOVEMENTS, PRICING_BASKETS
from tables.price_book import live_book
from views.budget_holds import place_budget_hold

ATTEMPTS = 3
_opened: set[tuple[str, str, int]] = set()  # budget accounts this worker has opened (their receipts acknowledged)


def _unavailable(view: View) -> Response | None:
    if live_book.caught_up:
        return None
    return view.json({"error": "the price book is still loading on this worker; retry shortly"}, status=503,
                     headers={"Retry-After": "1"})


@app.page("/baskets/price/")
class PriceBasketView(View):
    async def post(self, request: Request) -> Response:
        if (busy := _unavailable(self)) is not None:
            return busy
        try:
            body = await request.json()
            basket, rest = basket_from(dict(body))
            context = context_from(rest, clock.now())
        except (ValueError, TypeError, KeyError) as err:
            return self.json({"error": f"bad request: {err!r}"}, status=400)
        book = live_book.book
        priced = price(basket, context, book)
        if not rest.get("hold"):
            return self.json(as_json(priced))
        ttl = timedelta(seconds=float(rest.get("ttl_s", settings.pricing_hold_ttl_s)))
        holds: dict[tuple[str, str, str], str] = {}
        answers: list[tuple[str, str, int, str]] = []
        for attempt in range(ATTEMPTS):
            codes = basket.coupon_codes
            placed = await asyncio.gather(*(self._hold(basket.basket_id, attempt, need, ttl, context, codes)
                                            for need in priced.needs))
            if any(a.get("answer") == "unknown" for a, _ in placed):
                # Granted holds stay: the same basket asked again meets them (same ids); else they expire.
                return self.json({"error": "a budget account's owner is moving or down; retry the same basket"},
                                 status=503, headers={"Retry-After": "1"})
            # Only a refusal is final; `released` means an earlier call for this basket moved past this
            # attempt, which only a refusal in the same attempt makes it do (so the attempts replay alike).
            refused = {need.promotion_id for need, (a, _) in zip(priced.needs, placed, strict=True)
                       if a["answer"] != "granted"}
            answers = [(a["hold_id"], a["sku"], a["quantity"], a["answer"]) for a, _ in placed]
            if not refused or attempt == ATTEMPTS - 1:
                holds = {(n.promotion_id, n.account, n.node): a["hold_id"]
                         for n, (a, _) in zip(priced.needs, placed, strict=True) if a["answer"] == "granted"}
                break
            await _release([a for a, _ in placed if a["answer"] == "granted"], "promotion dropped: re-priced")
            context = _refusing(context, refused)
            priced = price(basket, context, book)
        if any(a[3] != "granted" for a in answers):  # the last attempt still refused: price without those
            context = _refusing(context, {n.promotion_id for n in priced.needs
                                          if (n.promotion_id, n.account, n.node) not in holds})
            priced = price(basket, context, book)
        answer = as_json(priced)
        answer["stamp"] = stamp_for(priced, context, basket.coupon_codes, holds).model_dump(mode="json")
        answer["holds"] = [{"hold_id": h, "account": s, "amount": q, "answer": a} for h, s, q, a in answers]
        await publish(PRICING_BASKETS, _priced_event(priced, context, answers))
        return self.json(answer, status=201)

    async def _hold(self, basket_id: str, attempt: int, need: BudgetNeed, ttl: timedelta, context: PricingContext,
                    codes: tuple[str, ...]) -> tuple[dict[str, Any], int]:
        hold_id = f"{basket_id}/{attempt}/{need.account}"
        key, receipts = _opening(need, context, codes)
        answer, status = await place_budget_hold(hold_id, basket_id, need, receipts, ttl)
        if status in (201, 409):
            _opened.add(key)
        return answer, status


def _opening(need: BudgetNeed, context: PricingContext,
             codes: tuple[str, ...]) -> tuple[tuple[str, str, int], list[Any]]:
    """The receipts that open the need's account at every version of its promotion so far (once per worker and
    version: the authority would ignore them again anyway, by their ids)."""
    versions = live_book.book.promotions.get(need.promotion_id, [])
    key = (need.account, need.node, versions[-1].version if versions else 0)
    if key in _opened:
        return key, []
    store = need.node if need.node != CHAIN else context.node
    limits = version_limits(versions, need.account, store, context.customer_id, codes, context.at)
    account = Account(need.account, need.account, need.node, need.kind, need.limit)
    return key, opening(account, [(v, limit) for v, limit in limits if limit] or [(1, need.limit)], context.at)


def _refusing(context: PricingContext, refused: set[str]) -> PricingContext:
    return PricingContext(
        at=context.at, channel=context.channel, node=context.node, currency=context.currency, tier=context.tier,
        region=context.region, customer_id=context.customer_id, refused=context.refused | frozenset(refused),
        offline=context.offline, leases=context.leases,
    )


async def _release(answers: list[dict[str, Any]], reason: str) -> None:
    now = clock.now()
    for a in answers:
        await publish(INVENTORY_MOVEMENTS, ReleaseHold(
            event_id=f"{a['hold_id']}:release", occurred_at=now, source_node="web", hold_id=a["hold_id"],
            sku=a["sku"], reason=reason,
        ))


def _priced_event(priced: Any, context: PricingContext, answers: list[tuple[str, str, int, str]]) -> BasketPriced:
    return BasketPriced(
        event_id=f"{priced.basket_id}:priced:{len(answers)}:{priced.total_cents}"[:100], occurred_at=context.at,
        source_node=context.node if context.channel == "store" else context.channel,
        basket_id=priced.basket_id, channel=context.channel, node=context.node,  # type: ignore[arg-type]
        customer_id=context.customer_id, snapshot_version=priced.snapshot_version, lines=len(priced.lines),
        subtotal_cents=priced.subtotal_cents, discount_cents=priced.discount_cents, total_cents=priced.total_cents,
        bonus_points=priced.bonus_points, applied=[a.promotion_id for a in priced.applied],
        rejected=[(r.promotion_id, r.reason) for r in priced.rejected], holds=answers, at=context.at,
    )


@app.page("/pricing/leases/")
class LeaseBudgetView(View):
    """A slice of a promotion's chain or store budget and coupon uses, held for one store's tills to spend
    offline until `valid_s` (the hold outlives it by OMNI_PRICING_LEASE_GRACE_S, so late offline sales still
    meet it; what is left when it expires goes back to the account)."""

    async def post(self, request: Request) -> Response:
        if (busy := _unavailable(self)) is not None:
            return busy
        try:
            body = dict(await request.json())
            store, promotion_id = str(body["store"]), str(body["promotion_id"])
            money, uses = int(body.get("money_cents", 0)), int(body.get("uses", 0))
            valid = timedelta(seconds=float(body.get("valid_s", 86_400)))
            lease_no = int(body.get("lease_no", 1))
        except (ValueError, TypeError, KeyError) as err:
            return self.json({"error": f"bad request: {err!r}"}, status=400)
        now = clock.now()
        versions = live_book.book.promotions.get(promotion_id)
        if not versions or versions[-1].status != "active":
            return self.json({"error": f"no active promotion {promotion_id}"}, status=404)
        promo = versions[-1]
        leasable = promo.budget is not None and promo.budget.scope != "customer"
        accounts = budget_accounts(promo, store, None, now) if leasable else []
        if promo.coupon is not None and promo.coupon.uses_total is not None:
            accounts += [a for a in coupon_accounts(promo, promo.coupon.codes[0], None) if "|total" in a.name]
        leases = []
        for account in accounts:
            amount = money if account.kind == "money" else uses
            if amount <= 0:
                continue
            need = BudgetNeed(promotion_id, account.sku, account.node, account.kind, min(amount, 100_000),
                              account.limit)
            lease_id = f"lease/{store}/{promotion_id}/{account.sku}/{lease_no}"
            key, receipts = _opening(need, PricingContext(at=now, channel="store", node=store), ())
            answer, status = await place_budget_hold(lease_id, f"lease/{store}", need, receipts,
                                                     valid + timedelta(seconds=settings.pricing_lease_grace_s))
            if status in (201, 409):
                _opened.add(key)
            leases.append({"lease_id": lease_id, "promotion_id": promotion_id, "account": account.sku,
                           "node": account.node, "kind": account.kind, "amount": need.amount,
                           "valid_until": (now + valid).isoformat(), "answer": answer.get("answer", "unknown"),
                           "reason": answer.get("reason")})
        return self.json({"store": store, "leases": leases}, status=201 if leases else 404)


@app.page("/pricing/book/")
class PriceBookView(View):
    async def get(self, request: Request) -> Response:
        book = live_book.book
        return self.json({"version": book.version, "caught_up": live_book.caught_up, "prices": len(book.prices),
                          "products": len(book.products), "promotions": len(book.promotions)})
