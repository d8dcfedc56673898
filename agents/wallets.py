"""Applies each command of a wallet's log (`loyalty.commands`) to the wallets table, once.

Answers holds, captures and voids on `loyalty.answers` (and to HTTP callers waiting in this
process); posts ledger entries with the balances after them on `loyalty.ledger-entries`.
The decisions are `domain.wallet_log.apply`; this module loads, saves and sends.
"""

from __future__ import annotations

import logging
from typing import Any

from faust import StreamT

from agents.advance_wallets import due_index
from domain.wallet_log import apply, posting
from ops.metrics import EVENTS, WALLET_COMMANDS
from runtime import replies
from runtime.app import app, channel, loyalty_rules, settings
from runtime.dead_letters import send_dead_letter
from runtime.stage import Stage
from streams.codec import DecodeError, decode, encode
from streams.loyalty import TierChanged
from streams.topics import LOYALTY_ANSWERS, LOYALTY_COMMANDS, LOYALTY_LEDGER, LOYALTY_TIERS
from tables.wallets import get_wallet, put_wallet

answers_topic = LOYALTY_ANSWERS.full_name(settings.topic_prefix)
ledger_topic = LOYALTY_LEDGER.full_name(settings.topic_prefix)
commands_topic = LOYALTY_COMMANDS.full_name(settings.topic_prefix)
tiers_topic = LOYALTY_TIERS.full_name(settings.topic_prefix)
log = logging.getLogger("omnistream.wallets")
stage = Stage("apply_wallet_commands")
@app.on_partitions_assigned.connect
async def _forget_positions(app: object, *args: object, **kwargs: object) -> None:
    stage.forget_positions()


@app.agent(channel(LOYALTY_COMMANDS))
async def apply_wallet_commands(stream: StreamT) -> None:
    await stage.run(stream, _process)


async def _process(message: Any) -> None:
    try:
        command = decode(LOYALTY_COMMANDS, message.value, settings.max_event_bytes)
    except DecodeError as err:
        await send_dead_letter(LOYALTY_COMMANDS, message, err.reason, "apply_wallet_commands")
        return
    if message.key != command.customer_id.encode():
        reason = f"loyalty.commands records must be keyed by customer_id ({command.customer_id!r}), got {message.key!r}"
        await send_dead_letter(LOYALTY_COMMANDS, message, reason, "apply_wallet_commands")
        return
    out = apply(get_wallet(command.customer_id), command, message.offset, loyalty_rules)
    put_wallet(out.wallet)  # also when redelivered: the local store may be ahead of the changelog
    due_index.note(out.wallet)
    key = command.customer_id.encode()
    posted = posting(command, out)
    if posted is not None:
        await app.producer.send(topic=ledger_topic, key=key, value=encode(posted), partition=None,
                                timestamp=None, headers=None)
    if out.answer is not None:
        await app.producer.send(topic=answers_topic, key=key, value=encode(out.answer), partition=None,
                                timestamp=None, headers=None)
        replies.answered(out.answer)
    for event in out.out:  # forwards, merges and moves go back onto the log; tier changes out
        topic = tiers_topic if isinstance(event, TierChanged) else commands_topic
        await app.producer.send(topic=topic, key=event.customer_id.encode(), value=encode(event), partition=None,
                                timestamp=None, headers=None)
        if isinstance(event, TierChanged) and out.verdict == "applied":
            log.info("%s is now %s (was %s): %d cents qualifying spend since %s", event.customer_id, event.tier,
                     event.previous, event.spend_cents, event.window_start.date())
    if out.note and out.verdict == "applied" and command.type in ("loyalty.clawback", "loyalty.move_in"):
        log.info("%s %s: %s", command.customer_id, command.type, out.note)
    WALLET_COMMANDS.labels(command.type, out.verdict).inc()
    EVENTS.labels(LOYALTY_COMMANDS.name).inc()
