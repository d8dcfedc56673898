"""A checkout's budget and coupon holds: each need held on its account (opened first, once), refusals re-priced.

One hold per basket and account (`<basket>/<account>`): the same basket asked again places the same
ids, so a retried checkout never holds twice and meets the same refusals; a changed basket replaces
its holds' amounts (the authority's rule for budget holds), never adds to them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from domain.ids import derived_id
from domain.pricing.basket import Basket, BudgetNeed, PricedBasket, PricingContext
from domain.pricing.budgets import CHAIN, Account, opening, version_limits
from domain.pricing.price import price
from runtime.app import clock
from runtime.publish import publish
from streams.holds import ReleaseHold
from streams.topics import INVENTORY_MOVEMENTS
from tables.price_book import live_book
from views.budget_holds import place_budget_hold

log = logging.getLogger("omnistream.pricing")
opened: set[tuple[str, str, int]] = set()  # budget accounts this worker opened (their receipts acknowledged)


@dataclass
class Checkout:
    priced: PricedBasket
    context: PricingContext
    holds: dict[tuple[str, str, str], tuple[str, int]]  # (promotion, account, node) -> (hold id, amount)
    answers: list[tuple[str, str, int, str]]  # (hold id, account, amount, answer)


async def checkout(basket: Basket, context: PricingContext, priced: PricedBasket,
                   ttl: timedelta) -> Checkout | tuple[int, str]:
    """Hold every need (one hold per basket and account: `<basket>/<account>`); a promotion with a refused
    need is dropped, its other holds released, and the basket priced again, until every need is held at
    its amount (each round drops at least one promotion, so it ends). Holds the final basket does not use
    are released. The same basket asked again places the same ids and meets the same refusals."""
    book = live_book.book
    answers: dict[str, tuple[str, str, int, str]] = {}
    held: dict[tuple[str, str, str], tuple[str, int]] = {}
    while True:
        needs = priced.needs
        placed = await asyncio.gather(*(_hold(basket.basket_id, n, ttl, context, basket.coupon_codes) for n in needs))
        if any(a.get("answer") == "unknown" for a in placed):
            # Granted holds stay: the same basket asked again meets them (same ids); else they expire.
            return 503, "a budget account's owner is moving or down; retry the same basket"
        if any(a["answer"] == "committed" for a in placed):
            return 409, "this basket was sold already: price a new basket under a new basket id"
        for n, a in zip(needs, placed, strict=True):
            answers[a["hold_id"]] = (a["hold_id"], a["sku"], int(a["quantity"]), a["answer"])
            if a["answer"] == "granted":
                held[(n.promotion_id, n.account, n.node)] = (a["hold_id"], int(a["quantity"]))
        refused = {n.promotion_id for n, a in zip(needs, placed, strict=True) if a["answer"] != "granted"}
        if not refused:
            break
        context = _refusing(context, refused)
        priced = price(basket, context, book)
    used = {(n.promotion_id, n.account, n.node) for n in priced.needs}
    await _release([(h, key[1]) for key, (h, _) in held.items() if key not in used], "not used by the basket")
    final = {k: v for k, v in held.items() if k in used}
    kept = {hold_id for hold_id, _ in final.values()}
    shown = [(h, account, q, "released" if a == "granted" and h not in kept else a)
             for h, account, q, a in answers.values()]
    return Checkout(priced, context, final, shown)


async def _hold(basket_id: str, need: BudgetNeed, ttl: timedelta, context: PricingContext,
                codes: tuple[str, ...]) -> dict[str, Any]:
    # The same basket with another amount places the same hold id: the authority replaces a budget hold's
    # amount (never two holds for one basket), and a stamp only ever names a hold of its own amount (below).
    hold_id = f"{basket_id}/{need.account}"
    key, receipts = opening_of(need, context, codes)
    answer, status = await place_budget_hold(hold_id, basket_id, need, receipts, ttl)
    if status in (201, 409):
        opened.add(key)
    if answer.get("answer") == "granted" and int(answer.get("quantity", -1)) != need.amount:
        answer = {**answer, "answer": "rejected"}  # never stamp an amount the hold does not hold
    return answer


def opening_of(need: BudgetNeed, context: PricingContext,
             codes: tuple[str, ...]) -> tuple[tuple[str, str, int], list[Any]]:
    """The receipts that open the need's account at every version of its promotion so far (once per worker and
    version: the authority would ignore them again anyway, by their ids)."""
    versions = [v for v in live_book.book.promotions.get(need.promotion_id, []) if v.occurred_at <= context.at]
    key = (need.account, need.node, versions[-1].version if versions else 0)
    if key in opened:
        return key, []
    store = need.node if need.node != CHAIN else context.node
    limits = [(v, limit) for v, limit in version_limits(versions, need.account, store, context.customer_id, codes,
                                                         context.at) if limit]
    if not limits:  # unopened, its holds are refused: safe, and the log says why
        log.warning("budget account %s of %s matches no version of the promotion: not opened", need.account,
                    need.promotion_id)
        return key, []
    account = Account(need.account, need.account, need.node, need.kind, need.limit)
    return key, opening(account, limits, context.at)


def _refusing(context: PricingContext, refused: set[str]) -> PricingContext:
    return PricingContext(
        at=context.at, channel=context.channel, node=context.node, currency=context.currency, tier=context.tier,
        region=context.region, customer_id=context.customer_id, refused=context.refused | frozenset(refused),
        offline=context.offline, leases=context.leases,
    )


async def _release(holds: list[tuple[str, str]], reason: str) -> None:
    """Release (hold id, account) pairs this checkout holds and will not use."""
    now = clock.now()
    for hold_id, account in holds:
        await publish(INVENTORY_MOVEMENTS, ReleaseHold(
            event_id=derived_id(hold_id, "release"), occurred_at=now, source_node="web", hold_id=hold_id,
            sku=account, reason=reason,
        ))
