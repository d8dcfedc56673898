"""Settles every purchase's promotions: budget committed with the sale, given back with returns; till sales re-priced.

Consumes `pricing.redemptions` (keyed by receipt or order id, co-partitioned with the
`promotion-redemptions` table). The budget commands go onto the SKU logs of the budget
accounts (`inventory.movements`), each use onto `pricing.promotion-uses`, each till line the
centre prices otherwise onto `pricing.variances` (and, charged less, as a fact for the till-price
fraud rule onto `fraud.facts`); all after the checkpoint that keeps the state
deciding them. The decisions are `domain.pricing.settlement` and `domain.pricing.variance`.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import TopicPartition

from domain.fraud_facts import facts_for_variance
from domain.pricing.settlement import settle
from domain.pricing.variance import variances
from ops.metrics import EVENTS
from runtime.app import app, settings
from runtime.dead_letters import decode_batch, send_dead_letter
from runtime.source import OwnedSource
from streams.base import Event
from streams.holds import CommitHold, ReleaseHold
from streams.inventory import StockMovement
from streams.redemptions import PricingVariance, PromotionUsed, RedeemPromotions, ReturnRedemption
from streams.topics import FRAUD_FACTS, INVENTORY_MOVEMENTS, PRICING_REDEMPTIONS, PRICING_USES, PRICING_VARIANCES
from tables.price_book import live_book
from tables.redemptions import redemption_state, redemptions_table

log = logging.getLogger("omnistream.pricing")


async def settle_batch(tp: TopicPartition, records: list[Any]) -> None:
    # pricing.redemptions is written by the router only: a record that does not decode is a bug, dead-lettered here
    for record, command in await decode_batch(PRICING_REDEMPTIONS, records, "settle_promotions"):
        try:
            out = _settled(command)
        except Exception as err:  # noqa: BLE001 (one purchase must not stop the stage; its record is kept whole)
            log.exception("settling %s failed: dead-lettered", command.purchase_key)
            await send_dead_letter(PRICING_REDEMPTIONS, record, f"settle_promotions failed: {err!r}"[:500],
                                   "settle_promotions")
            continue
        _send(out)
        EVENTS.labels(PRICING_REDEMPTIONS.name).inc()


def _settled(command: RedeemPromotions | ReturnRedemption) -> list[Event]:
    state = redemption_state.get(command.purchase_key)
    new, out = settle(state, command)
    if isinstance(command, RedeemPromotions) and command.channel == "store":
        # Sent again if redelivered (same ids: the sink and the fraud rule keep the first)
        out = [*out, *variances(command, live_book.book)]
    if new is not None and new != state:  # after everything that may raise: a failed purchase changes nothing
        redemption_state.put(command.purchase_key, new)
    return out


def _send(out: list[Event]) -> None:
    for event in out:
        if isinstance(event, CommitHold | ReleaseHold | StockMovement):
            source.after_checkpoint(INVENTORY_MOVEMENTS, event)
        elif isinstance(event, PromotionUsed):
            source.after_checkpoint(PRICING_USES, event)
        elif isinstance(event, PricingVariance):
            source.after_checkpoint(PRICING_VARIANCES, event)
            for fact in facts_for_variance(event):  # the till-price fraud rule judges variances
                source.after_checkpoint(FRAUD_FACTS, fact)
            log.info("till %s line %d of %s: charged %d, centre %d (%s)", event.store, event.line_no,
                     event.receipt_id, event.charged_cents, event.expected_cents, event.cause)


source = OwnedSource(app, settings, "settle_promotions", PRICING_REDEMPTIONS.full_name(settings.topic_prefix),
                     redemptions_table, settle_batch, state=(redemption_state,),
                     also_ready=lambda: live_book.caught_up)
