"""A checkout's budget and coupon holds: each need held on its account (opened first, once), refusals re-priced.

The same basket asked again replays the same attempts under the same hold ids (the amount is part
of the id), so a retried checkout never holds twice and meets the same refusals.
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
ATTEMPTS = 3
opened: set[tuple[str, str, int]] = set()  # budget accounts this worker opened (their receipts acknowledged)


@dataclass
class Checkout:
    priced: PricedBasket
    context: PricingContext
    holds: dict[tuple[str, str, str], tuple[str, int]]  # (promotion, account, node) -> (hold id, amount)
    answers: list[tuple[str, str, int, str]]  # (hold id, account, amount, answer)


async def checkout(basket: Basket, context: PricingContext, priced: PricedBasket,
                    ttl: timedelta) -> Checkout | tuple[int, str]:
    """Hold every need; a refused promotion is dropped and the basket priced again under new hold ids. The same
    basket asked again replays the same attempts: a refusal is kept by the authority, so it meets the same one."""
    book = live_book.book
    answers: list[tuple[str, str, int, str]] = []
    held: dict[tuple[str, str, str], tuple[str, int]] = {}
    for attempt in range(ATTEMPTS):
        needs = priced.needs
        placed = await asyncio.gather(*(_hold(basket.basket_id, attempt, n, ttl, context, basket.coupon_codes)
                                        for n in needs))
        if any(a.get("answer") == "unknown" for a in placed):
            # Granted holds stay: the same basket asked again meets them (same ids); else they expire.
            return 503, "a budget account's owner is moving or down; retry the same basket"
        answers = [(a["hold_id"], a["sku"], int(a["quantity"]), a["answer"]) for a in placed]
        held = {(n.promotion_id, n.account, n.node): (a["hold_id"], int(a["quantity"]))
                for n, a in zip(needs, placed, strict=True) if a["answer"] == "granted"}
        rejected = {n.promotion_id for n, a in zip(needs, placed, strict=True) if a["answer"] == "rejected"}
        ended = any(a["answer"] in ("released", "expired", "committed") for a in placed)
        if not rejected and not ended:
            return Checkout(priced, context, held, answers)
        if attempt == ATTEMPTS - 1:
            break
        await _release([(h, account) for (_, account, _), (h, _) in held.items()], "promotion dropped: re-priced")
        held = {}
        if rejected:
            context = _refusing(context, rejected)
            priced = price(basket, context, book)
        # else an earlier call for this basket moved past this attempt (only a refusal in it does): follow it
    if not held and not rejected:
        return 409, "this basket's checkout ended earlier (its holds were released, expired or sold): price it " \
                    "under a new basket id"
    return await _settle_last(basket, context, priced, held, answers)


async def _settle_last(basket: Basket, context: PricingContext, priced: PricedBasket,
                       held: dict[tuple[str, str, str], tuple[str, int]],
                       answers: list[tuple[str, str, int, str]]) -> Checkout:
    """Out of attempts: price without every promotion not fully held at its amount, until the needs match the
    holds; release what the final basket does not use."""
    book = live_book.book
    while True:
        bad = {n.promotion_id for n in priced.needs
               if held.get((n.promotion_id, n.account, n.node), ("", -1))[1] != n.amount}
        if not bad:
            break
        context = _refusing(context, bad)
        priced = price(basket, context, book)
    used = {(n.promotion_id, n.account, n.node) for n in priced.needs}
    await _release([(h, key[1]) for key, (h, _) in held.items() if key not in used], "not used by the basket")
    return Checkout(priced, context, {k: v for k, v in held.items() if k in used}, answers)


async def _hold(basket_id: str, attempt: int, need: BudgetNeed, ttl: timedelta, context: PricingContext,
                codes: tuple[str, ...]) -> dict[str, Any]:
    # The amount is part of the id: the same basket with another amount is another hold, never the old one.
    hold_id = f"{basket_id}/{attempt}/{need.account}/{need.amount}"
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
