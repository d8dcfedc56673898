"""Pricing over HTTP: a basket priced with the central book, and at checkout its budget and coupon holds placed.

`POST /baskets/price/` (`views/requests.py` PriceBasketRequest) {basket_id, channel, node, lines:
[{line_no, sku, quantity}], coupon_codes?, customer_id?, tier?, region?, shipping_cents?, hold?,
ttl_s?} answers the priced basket
(`domain/pricing/answer.py`, the same rendering as the till's). With `hold: true` (checkout) it
also holds every budget and coupon use on its account (opening the account first, once); a
promotion whose hold is refused is dropped and the basket priced again without it, until every
need is held (`views/checkout.py`); the answer then carries `stamp`, the `pricing` the sale or
order must carry so the centre commits the holds. The same basket id asked again places the same
hold ids, so a retried checkout never holds twice; a basket already sold answers 409.
`GET /pricing/book/` says which book version this worker prices with. Leases: `views/leases.py`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from faust.web import Request, Response, View

from domain.pricing.answer import as_json, basket_from, context_from, stamp_for
from domain.pricing.basket import PricingContext
from domain.pricing.price import price
from runtime.app import app, clock, settings
from runtime.publish import publish
from streams.redemptions import BasketPriced
from streams.topics import PRICING_BASKETS
from tables.price_book import live_book
from views import body
from views.checkout import checkout
from views.requests import PriceBasketRequest


def unavailable(view: View) -> Response | None:
    if live_book.caught_up:
        return None
    return view.json({"error": "the price book is still loading on this worker; retry shortly"}, status=503,
                     headers={"Retry-After": "1"})


@app.page("/baskets/price/")
class PriceBasketView(View):
    async def post(self, request: Request) -> Response:
        if (busy := unavailable(self)) is not None:
            return busy
        try:
            asked = await body.read(request, PriceBasketRequest)
            basket, rest = basket_from(asked.as_dict())
            context = context_from(rest, clock.now())
        except (body.BodyError, ValueError) as err:  # basket_from: line numbers repeated
            return body.refuse(self, str(err))
        book = live_book.book
        priced = price(basket, context, book)
        if not rest.get("hold"):
            return self.json(as_json(priced))
        ttl = timedelta(seconds=asked.ttl_s or settings.pricing_hold_ttl_s)
        done = await checkout(basket, context, priced, ttl)
        if isinstance(done, tuple):
            status, error = done
            return self.json({"error": error}, status=status, headers={"Retry-After": "1"} if status == 503 else {})
        priced, context, holds, answers = done.priced, done.context, done.holds, done.answers
        answer = as_json(priced)
        answer["stamp"] = stamp_for(priced, context, basket.coupon_codes,
                                    {key: hold_id for key, (hold_id, _) in holds.items()}).model_dump(mode="json")
        answer["holds"] = [{"hold_id": h, "account": s, "amount": q, "answer": a} for h, s, q, a in answers]
        await publish(PRICING_BASKETS, _priced_event(priced, context, answers))
        return self.json(answer, status=201)


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


@app.page("/pricing/book/")
class PriceBookView(View):
    async def get(self, request: Request) -> Response:
        book = live_book.book
        return self.json({"version": book.version, "caught_up": live_book.caught_up, "prices": len(book.prices),
                          "products": len(book.products), "promotions": len(book.promotions)})
