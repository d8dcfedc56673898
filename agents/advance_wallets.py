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

import json
import logging
import time
from collections.abc import Iterable

from app import app, channel, clock, settings
from domain.ids import derived_id
from domain.loyalty_rules import rules_from
from domain.wallet import Wallet
from domain.wallet_due import ADVANCES_PER_S, DueIndex
from ops.metrics import WALLET_TIMER_LATENESS
from streams.codec import encode
from streams.loyalty import AdvanceWallet
from streams.topics import LOYALTY_COMMANDS
from tables.wallets import wallets_table

log = logging.getLogger("omnistream.wallet_timer")
commands = channel(LOYALTY_COMMANDS)
RULES = rules_from(settings.points_per_unit, settings.tier_thresholds, settings.tier_multipliers,
                   settings.excluded_skus)
MAX_PER_TICK = max(1, int(ADVANCES_PER_S * settings.wallet_timer_s))


due_index = DueIndex(RULES)


def owned_wallets() -> Iterable[Wallet]:
    """Every wallet in the partitions this worker owns (the store iterates active partitions only)."""
    for raw in wallets_table.values():
        for wallet_json in json.loads(raw).values():
            yield Wallet.model_validate_json(wallet_json)


@app.on_partitions_assigned.connect
async def _rebuild_later(app: object, *args: object, **kwargs: object) -> None:
    due_index.invalidate()


@app.timer(interval=settings.wallet_timer_s)
async def advance_wallets() -> None:
    if not app.tables.recovery.completed.is_set():
        return
    if not due_index.valid:
        started = time.monotonic()
        due_index.rebuild(owned_wallets())
        log.info("wallet timer index rebuilt: %d wallets with something due, in %.1f s",
                 len(due_index.due), time.monotonic() - started)
    now = clock.now()
    due = due_index.take_due(now, time.monotonic(), MAX_PER_TICK)
    for customer_id in due:
        command = AdvanceWallet(
            event_id=derived_id(f"advance:{customer_id}", now.strftime("%Y%m%dT%H%M%S.%fZ")), occurred_at=now,
            source_node="hq", customer_id=customer_id, as_of=now,
        )
        await commands.send(key=customer_id.encode(), value=encode(command))
    late_s = due_index.lateness_s(now)
    WALLET_TIMER_LATENESS.set(late_s)
    if len(due) == MAX_PER_TICK:
        log.warning("wallet timer behind: the oldest due wallet is %.0f s late; advancing %d wallets per %.1f s "
                    "(a backlog drains oldest first)", late_s, MAX_PER_TICK, settings.wallet_timer_s)
