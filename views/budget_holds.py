"""Placing a budget or coupon hold from any worker: on the owner of its account, after the account is opened.

The opening receipts are sent from here and acknowledged before the hold is published (here, or
by the owner the request is forwarded to), so the account's log has them first whichever
producer sends the hold.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import aiohttp

from domain.pricing.basket import BudgetNeed
from runtime.app import clock, settings
from runtime.publish import publish
from streams.holds import PlaceHold
from streams.inventory import StockMovement
from streams.topics import INVENTORY_MOVEMENTS
from views.holds import decide
from views.owner import FORWARDED, is_mine, owner_of

log = logging.getLogger("omnistream.pricing")


async def place_budget_hold(hold_id: str, order_id: str, need: BudgetNeed, openings: list[StockMovement],
                            ttl: timedelta) -> tuple[dict[str, Any], int]:
    """The authority's answer (as JSON) and its HTTP status: 201 granted, 409 refused, 503/504 not known."""
    for receipt in openings:
        await (await publish(INVENTORY_MOVEMENTS, receipt))
    now = clock.now()
    unknown = {"hold_id": hold_id, "sku": need.account, "quantity": need.amount, "answer": "unknown"}
    if is_mine(need.account):
        command = PlaceHold(event_id=f"{hold_id}:place"[:100], occurred_at=now, source_node="web", hold_id=hold_id,
                            order_id=order_id, sku=need.account, node=need.node, quantity=need.amount,
                            expires_at=now + ttl)
        status, answer = await decide(command)
        return (answer if "answer" in answer else unknown), status
    owner = owner_of(need.account)
    if owner is None:
        return unknown, 503
    body = {"hold_id": hold_id, "order_id": order_id, "sku": need.account, "node": need.node,
            "quantity": need.amount, "ttl_s": ttl.total_seconds()}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session, \
                session.post(f"{owner}/holds/", json=body, headers={FORWARDED: "1", **settings.peer_headers()}) \
                as response:
            answer = await response.json()
            if response.status in (401, 403):
                log.error("worker %s refused a budget hold from this worker (%s): set OMNI_PEER_TOKEN, the same "
                          "on every worker", owner, answer.get("error"))
                return unknown, 503
            return (answer if "answer" in answer else unknown), response.status
    except (aiohttp.ClientError, TimeoutError):
        return unknown, 503
