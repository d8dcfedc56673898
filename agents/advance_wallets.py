"""Puts a `loyalty.advance` on the log of every owned wallet that time alone has changed.

Lots mature when the return window ends, lots and holds expire, spend leaves the tier window:
none of that needs a customer to come back. Each worker keeps the next due moment of every
wallet it owns (noted when a command is applied; rebuilt from the table after a rebalance, as
hold expiry does) and, every `OMNI_WALLET_TIMER_S`, sends an `AdvanceWallet` to each wallet
that is due. The wallet applies it like any other command, by its `as_of`, so the ledger gets
its `mature`, `expire_lot`, `expire_hold` entries and tier changes when they happen, and one
sent twice posts nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable

from domain.ids import derived_id
from domain.wallet import Wallet
from domain.wallet_due import ADVANCES_PER_S, DueIndex
from ops.metrics import WALLET_TIMER_LATENESS
from runtime.app import after_assignment, app, clock, loyalty_rules, settings, settled
from runtime.publish import publish
from streams.loyalty import AdvanceWallet
from streams.topics import LOYALTY_COMMANDS
from tables.wallets import wallet_state, wallets_table

log = logging.getLogger("omnistream.wallet_timer")
MAX_PER_TICK = max(1, int(ADVANCES_PER_S * settings.wallet_timer_s))
REBUILD_CHUNK = 1_000  # ~50 ms of parsing between yields to the event loop


due_index = DueIndex(loyalty_rules)


def owned_wallets() -> Iterable[Wallet]:
    """Every wallet in the partitions this worker owns (the store iterates active partitions
    only), as decided so far: values the next checkpoint will write replace the stored ones."""
    decided = dict(wallet_state.values)
    for raw in wallets_table.values():
        for customer_id, wallet_json in json.loads(raw).items():
            wallet = decided.pop(customer_id, None)
            yield wallet if wallet is not None else Wallet.model_validate_json(wallet_json)
    yield from decided.values()


@after_assignment
async def _rebuild_later() -> None:
    due_index.invalidate()


async def rebuild() -> None:
    """The index from the table, yielding to the event loop every REBUILD_CHUNK wallets so that
    heartbeats, commands and HTTP answers go on (a million wallets take ~47 s of CPU)."""
    started = time.monotonic()
    generation = due_index.begin_rebuild()
    for n, wallet in enumerate(owned_wallets(), 1):
        due_index.rebuilt(wallet)
        if n % REBUILD_CHUNK == 0:
            await asyncio.sleep(0)
            if generation != due_index.generation or not settled():
                break  # a rebalance began: the next tick starts over
    if due_index.end_rebuild(generation) and settled():
        log.info("wallet timer index rebuilt: %d wallets with something due, in %.1f s",
                 len(due_index.due), time.monotonic() - started)
    else:
        due_index.invalidate()


@app.timer(interval=settings.wallet_timer_s)
async def advance_wallets() -> None:
    if not settled():
        return
    if not due_index.valid:
        await rebuild()
        if not due_index.valid:
            return
    now = clock.now()
    due = due_index.take_due(now, time.monotonic(), MAX_PER_TICK)
    for customer_id in due:
        command = AdvanceWallet(
            event_id=derived_id(f"advance:{customer_id}", now.strftime("%Y%m%dT%H%M%S.%fZ")), occurred_at=now,
            source_node="hq", customer_id=customer_id, as_of=now,
        )
        await publish(LOYALTY_COMMANDS, command)
    late_s = due_index.lateness_s(now)
    WALLET_TIMER_LATENESS.set(late_s)
    if len(due) == MAX_PER_TICK:
        log.warning("wallet timer behind: the oldest due wallet is %.0f s late; advancing %d wallets per %.1f s "
                    "(a backlog drains oldest first)", late_s, MAX_PER_TICK, settings.wallet_timer_s)
