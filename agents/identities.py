"""Resolves hashed identifiers to customers and settles purchases into wallet commands.

Consumes `identity.requests`, keyed by the record each command changes and co-partitioned
with its tables: identifier records (`identities`: hashed identifier -> customer), purchase
records (`purchases`: purchase key -> customer, lines, what it earned and gave back) and customer
records (`customers`: customer id -> its identifiers, merges, erasure; domain/erasure.py).
Sends claims and attributions back onto it (hop 2, keyed by the claimed identifier or the
purchase key), earn, clawback and merge commands to `loyalty.commands` (keyed by customer id),
merges to `customers.merges`, the purchase history to `customers.purchases` and erasures to
`customers.erasures`. Decisions: `domain.identity_log.resolve`, `domain.purchases.settle` and
`domain.erasure`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from aiokafka import TopicPartition

from domain.erasure import at_customer, at_identifier, enrolments
from domain.identity_log import resolve
from domain.purchases import settle
from ops.metrics import EVENTS
from runtime.app import app, settings
from runtime.dead_letters import decode_batch, send_dead_letter
from runtime.publish import publish
from runtime.source import OwnedSource
from streams.base import Event
from streams.customers import (
    AttributePurchase,
    CancelPurchase,
    ClaimIdentifier,
    CustomersMerged,
    FulfilPurchase,
    PurchaseRecorded,
    ReturnPurchase,
    identity_key,
)
from streams.erasure import CustomerErased, EnrolIdentifier, EraseCustomer, FoldCustomer, ForgetIdentifier
from streams.loyalty import ClawbackPoints, EarnPoints, MergeWallets
from streams.topics import (
    CUSTOMERS_ERASURES,
    CUSTOMERS_MERGES,
    CUSTOMERS_PURCHASES,
    IDENTITY_REQUESTS,
    LOYALTY_COMMANDS,
    TopicSpec,
)
from tables.customers import customer_state
from tables.identities import identities_table, identity_state
from tables.purchases import purchase_state

log = logging.getLogger("omnistream.identity")
WINDOW = timedelta(days=settings.return_window_days)
LIFETIME = timedelta(days=settings.points_lifetime_days) if settings.points_lifetime_days else None
PURCHASE_COMMANDS = (AttributePurchase, FulfilPurchase, CancelPurchase, ReturnPurchase)
_identity = IDENTITY_REQUESTS.full_name(settings.topic_prefix)
SPEC_OF: dict[type, TopicSpec] = {  # each output on its topic (keyed by `publish` as the registry says)
    ClaimIdentifier: IDENTITY_REQUESTS,
    AttributePurchase: IDENTITY_REQUESTS,
    EarnPoints: LOYALTY_COMMANDS,
    ClawbackPoints: LOYALTY_COMMANDS,
    MergeWallets: LOYALTY_COMMANDS,
    CustomersMerged: CUSTOMERS_MERGES,
    PurchaseRecorded: CUSTOMERS_PURCHASES,
    EnrolIdentifier: IDENTITY_REQUESTS,
    FoldCustomer: IDENTITY_REQUESTS,
    EraseCustomer: IDENTITY_REQUESTS,
    ForgetIdentifier: IDENTITY_REQUESTS,
    CustomerErased: CUSTOMERS_ERASURES,
}


async def resolve_batch(tp: TopicPartition, records: list[Any]) -> None:
    """One partition's requests in log order against each identifier's and purchase's latest
    record (written once per checkpoint); the outputs sent together after."""
    identities, purchases = identity_state, purchase_state
    outputs: list[tuple[str, Event]] = []
    for record, command in await decode_batch(IDENTITY_REQUESTS, records, "resolve_identities"):
        key = identity_key(command)
        if record.key != key.encode():
            reason = f"identity.requests records must be keyed by {key!r} (the record they change), got {record.key!r}"
            await send_dead_letter(IDENTITY_REQUESTS, record, reason, "resolve_identities")
            continue
        if isinstance(command, PURCHASE_COMMANDS):
            step = settle(purchases.get(key), command, WINDOW, key, LIFETIME)
            purchases.put(key, step.record)  # every time: idempotent, and keeps the changelog level
            outputs += [(key, event) for event in step.out]
            if step.note:
                log.info("purchase %s: %s (%s)", key, step.note, command.event_id)
        elif isinstance(command, EnrolIdentifier | FoldCustomer) or (
                isinstance(command, EraseCustomer) and command.identifier is None):
            change = at_customer(key, customer_state.get(key), command)
            customer_state.put(key, change.record)  # type: ignore[arg-type]
            outputs += [(key, event) for event in change.out]
        elif isinstance(command, EraseCustomer | ForgetIdentifier):
            before = identities.get(key)
            change = at_identifier(key, before, command)
            if before is not None or change.record is not None:
                identities.put(key, change.record)  # type: ignore[arg-type]  # None: deleted
            outputs += [(key, event) for event in change.out]
        else:
            before = identities.get(key)
            identity = resolve(before, command)
            if identity.record is not None:
                identities.put(key, identity.record)
            outputs += [(key, event) for event in [*identity.out, *enrolments(key, before, identity.record, command,
                                                                              identity.out)]]
        EVENTS.labels(IDENTITY_REQUESTS.name).inc()
    for _, event in outputs:
        await publish(SPEC_OF[type(event)], event)
        if isinstance(event, CustomersMerged):
            log.info("customers merged: %s into %s (both claimed %s)", event.merged, event.survivor, event.identifier)
        elif isinstance(event, CustomerErased):
            log.info("customer %s erased: %d identifiers forgotten (request %s)", event.customer_id,
                     event.identifiers_forgotten, event.request_event_id)


source = OwnedSource(app, settings, "resolve_identities", _identity, identities_table, resolve_batch,
                     state=(identity_state, purchase_state, customer_state))
