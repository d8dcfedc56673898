"""Checkout holds against an in-memory stock authority: whatever the retries and amounts, a budget is never
overrun, every stamped use is a granted hold of exactly its amount, and no granted hold is left unused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import views.checkout as checkout_module
from domain.authority import again, decide, dedupes_by_id
from domain.pricing.answer import stamp_for
from domain.pricing.basket import Basket, BasketLine, PricingContext
from domain.pricing.book import PriceBook
from domain.pricing.price import price
from domain.pricing.settlement import settle
from domain.stock import SkuStock
from streams.holds import CommitHold, PlaceHold, ReleaseHold
from streams.inventory import StockMovement
from streams.redemptions import RedeemedLine, RedeemPromotions
from tests.integration.pricing_world import SKUS, book

NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)
COUPON_USES, BUDGET = 5, 300  # a few baskets exhaust both: refusals and re-pricing happen


class Authority:
    """The stock authority as the runtime runs it: commands deduplicated by id, decided in order."""

    def __init__(self) -> None:
        self.stocks: dict[str, SkuStock] = {}
        self.seen: set[str] = set()

    def apply(self, command: Any) -> list[Any]:
        stock = self.stocks.get(command.sku) or SkuStock(sku=command.sku)
        if dedupes_by_id(command):
            if command.event_id in self.seen:
                return again(stock, command)
            self.seen.add(command.event_id)
        decision = decide(stock, command)
        self.stocks[command.sku] = decision.stock
        return decision.answers


@pytest.fixture
def authority(monkeypatch: pytest.MonkeyPatch) -> Authority:
    auth = Authority()
    live = PriceBook()
    for offset, event in enumerate(book(NOW, coupon_uses=COUPON_USES, budget_cents=BUDGET)):
        live.apply(event, offset)

    async def place(hold_id: str, order_id: str, need: Any, openings: list[Any], ttl: timedelta
                    ) -> tuple[dict[str, Any], int]:
        for receipt in openings:
            auth.apply(receipt)
        command = PlaceHold(event_id=f"{hold_id}:place", occurred_at=NOW, source_node="web", hold_id=hold_id,
                            order_id=order_id, sku=need.account, node=need.node, quantity=need.amount,
                            expires_at=NOW + ttl)
        answer = [a for a in auth.apply(command) if a.hold_id == hold_id][-1]
        return answer.model_dump(mode="json"), {"granted": 201, "rejected": 409}.get(answer.answer, 200)

    async def publish(spec: Any, event: Any) -> None:
        if isinstance(event, ReleaseHold | CommitHold | StockMovement):
            auth.apply(event)

    class Live:
        caught_up = True

    Live.book = live  # type: ignore[attr-defined]
    monkeypatch.setattr(checkout_module, "live_book", Live)
    monkeypatch.setattr(checkout_module, "place_budget_hold", place)
    monkeypatch.setattr(checkout_module, "publish", publish)
    monkeypatch.setattr(checkout_module.clock, "now", lambda: NOW)
    checkout_module.opened.clear()
    auth.book = live  # type: ignore[attr-defined]
    return auth


def run_checkout(auth: Authority, basket_id: str, shoes: int) -> Any:
    basket = Basket(basket_id, (BasketLine(1, SKUS[0], shoes),), coupon_codes=("WELCOME",))
    context = PricingContext(at=NOW, channel="web", node="web")
    priced = price(basket, context, auth.book)  # type: ignore[attr-defined]
    return asyncio.run(checkout_module.checkout(basket, context, priced, timedelta(minutes=15)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.tuples(st.integers(0, 7), st.integers(1, 9)), min_size=1, max_size=25))
def test_retried_and_changed_checkouts_never_overrun_and_stamp_only_what_they_hold(
    authority: Authority, plan: list[tuple[int, int]],
) -> None:
    authority.stocks.clear()
    authority.seen.clear()
    checkout_module.opened.clear()
    stamps: dict[str, Any] = {}
    for basket_no, shoes in plan:  # the same basket id comes back, with the same or another quantity
        done = run_checkout(authority, f"b{basket_no}", shoes)
        if isinstance(done, tuple):
            assert done[0] == 409  # a checkout that ended earlier is told so, never stamped
            continue
        stamp = stamp_for(done.priced, done.context, ("WELCOME",), {k: h for k, (h, _) in done.holds.items()})
        for promo in stamp.promotions:
            for use in promo.budget:
                hold = authority.stocks[use.account].holds[use.hold_id]
                assert (hold.status, hold.quantity) == ("granted", use.amount)
        stamps[f"b{basket_no}"] = (stamp, done.priced)
    for n, (basket_id, (stamp, priced)) in enumerate(stamps.items()):  # every last stamp sold
        sale = RedeemPromotions(
            event_id=f"sale-{n}", occurred_at=NOW, source_node="web", purchase_key=basket_id, channel="web",
            node="web", pricing=stamp, lines=[RedeemedLine(line_no=x.line_no, sku=x.sku, quantity=x.quantity,
                                                           unit_price_cents=x.unit_price_cents,
                                                           discount_cents=x.discount_cents) for x in priced.lines])
        for command in settle(None, sale)[1]:
            if isinstance(command, CommitHold):
                authority.apply(command)
    for stock in authority.stocks.values():
        position = stock.position("chain")
        assert position.on_hand >= 0, f"{stock.sku} overrun: {position}"
        sold = {u.hold_id for s, _ in stamps.values() for p in s.promotions for u in p.budget}
        leaked = [h for h in stock.holds.values() if h.status == "granted" and h.hold_id not in sold]
        assert not leaked, f"holds left granted unused: {leaked}"
