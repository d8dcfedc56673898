"""Applies each command of a wallet's log (`loyalty.commands`) to the wallets table, once.

A batch-native stage (runtime/source.py): per batch of a partition it decodes every command,
applies `domain.wallet_log.apply` in log order to each wallet's latest value, then sends the
batch's answers (on `loyalty.answers` and to HTTP callers waiting in this process), ledger
entries with the balances after them (on `loyalty.ledger-entries`), tier changes, and the
forwards, merges and moves that go back onto the log. Changed wallets are written once per
checkpoint, each bucket once (runtime/batch.py). The decisions are the domain's; this module
loads, saves and sends.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import TopicPartition

from agents.advance_wallets import due_index
from domain.wallet_log import apply, posting
from ops.metrics import EVENTS, WALLET_COMMANDS
from runtime import replies
from runtime.app import app, loyalty_rules, settings
from runtime.dead_letters import decode_batch, send_dead_letter
from runtime.publish import publish
from runtime.source import OwnedSource
from streams.base import Event
from streams.loyalty import TierChanged
from streams.topics import LOYALTY_ANSWERS, LOYALTY_COMMANDS, LOYALTY_LEDGER, LOYALTY_TIERS, TopicSpec
from tables.wallets import wallet_state, wallets_table

commands_topic = LOYALTY_COMMANDS.full_name(settings.topic_prefix)
log = logging.getLogger("omnistream.wallets")


async def apply_batch(tp: TopicPartition, records: list[Any]) -> None:
    """One partition's commands, in log order: decide each, then save and send once."""
    wallets = wallet_state
    changed: dict[str, None] = {}
    sends: list[tuple[TopicSpec, Event]] = []
    answers: list[Any] = []
    for record, command in await decode_batch(LOYALTY_COMMANDS, records, "apply_wallet_commands"):
        if record.key != command.customer_id.encode():
            reason = (f"loyalty.commands records must be keyed by customer_id ({command.customer_id!r}), "
                      f"got {record.key!r}")
            await send_dead_letter(LOYALTY_COMMANDS, record, reason, "apply_wallet_commands")
            continue
        out = apply(wallets.get(command.customer_id), command, record.offset, loyalty_rules)
        wallets.put(command.customer_id, out.wallet)  # also when redelivered: the store may be ahead of the changelog
        changed[command.customer_id] = None
        posted = posting(command, out)
        if posted is not None:
            sends.append((LOYALTY_LEDGER, posted))
        if out.answer is not None:
            sends.append((LOYALTY_ANSWERS, out.answer))
            answers.append(out.answer)
        for event in out.out:  # forwards, merges and moves go back onto the log; tier changes out
            sends.append((LOYALTY_TIERS if isinstance(event, TierChanged) else LOYALTY_COMMANDS, event))
            if isinstance(event, TierChanged) and out.verdict == "applied":
                log.info("%s is now %s (was %s): %d cents qualifying spend since %s", event.customer_id, event.tier,
                         event.previous, event.spend_cents, event.window_start.date())
        if out.note and out.verdict == "applied" and command.type in ("loyalty.clawback", "loyalty.move_in"):
            log.info("%s %s: %s", command.customer_id, command.type, out.note)
        WALLET_COMMANDS.labels(command.type, out.verdict).inc()
        EVENTS.labels(LOYALTY_COMMANDS.name).inc()
    for customer_id in changed:
        due_index.note(wallets.get(customer_id))
    for spec, output in sends:
        await publish(spec, output)
    for answer in answers:
        replies.answered(answer)


source = OwnedSource(app, settings, "apply_wallet_commands", commands_topic, wallets_table, apply_batch,
                     state=(wallet_state,))
