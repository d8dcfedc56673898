"""Resolves hashed identifiers to customers and turns their purchases into wallet commands.

Consumes `identity.requests` (keyed by hashed identifier, co-partitioned with the identities
table); sends claims back onto it (hop 2 of a link, keyed by the claimed identifier), earn
commands to `loyalty.commands` (keyed by customer id) and merges to `customers.merges`.
Decisions: `domain.identity_log.resolve`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from faust import StreamT

from agents.dead_letters import send_dead_letter
from agents.stage import Stage
from app import app, channel, settings
from domain.identity_log import resolve
from domain.loyalty_rules import EarnRules
from ops.metrics import EVENTS
from streams.codec import DecodeError, decode, encode
from streams.customers import ClaimIdentifier, CustomersMerged
from streams.loyalty import EarnPoints
from streams.topics import CUSTOMERS_MERGES, IDENTITY_REQUESTS, LOYALTY_COMMANDS
from tables.identities import get_identity, put_identity

log = logging.getLogger("omnistream.identity")
stage = Stage("resolve_identities")
RULES = EarnRules(points_per_unit=settings.points_per_unit)
WINDOW = timedelta(days=settings.return_window_days)
TOPIC_OF = {
    ClaimIdentifier: IDENTITY_REQUESTS.full_name(settings.topic_prefix),
    EarnPoints: LOYALTY_COMMANDS.full_name(settings.topic_prefix),
    CustomersMerged: CUSTOMERS_MERGES.full_name(settings.topic_prefix),
}
KEY_OF: dict[type, Any] = {  # each output keyed as its topic's registry entry says
    ClaimIdentifier: lambda e: e.identifier,
    EarnPoints: lambda e: e.customer_id,
    CustomersMerged: lambda e: e.merged,
}


@app.on_partitions_assigned.connect
async def _forget_positions(app: object, *args: object, **kwargs: object) -> None:
    stage.forget_positions()


@app.agent(channel(IDENTITY_REQUESTS))
async def resolve_identities(stream: StreamT) -> None:
    await stage.run(stream, _process)


async def _process(message: Any) -> None:
    try:
        command = decode(IDENTITY_REQUESTS, message.value, settings.max_event_bytes)
    except DecodeError as err:
        await send_dead_letter(IDENTITY_REQUESTS, message, err.reason, "resolve_identities")
        return
    identifier = command.known if command.type == "identity.link" else command.identifier
    step = resolve(get_identity(identifier), command, RULES, WINDOW)
    if step.record is not None:
        put_identity(identifier, step.record)  # every time: idempotent, and keeps the changelog level
    for out in step.out:
        key = KEY_OF[type(out)](out)
        await app.producer.send(topic=TOPIC_OF[type(out)], key=key.encode(), value=encode(out), partition=None,
                                timestamp=None, headers=None)
        if isinstance(out, CustomersMerged):
            log.info("customers merged: %s into %s (both claimed %s)", out.merged, out.survivor, out.identifier)
    EVENTS.labels(IDENTITY_REQUESTS.name).inc()
