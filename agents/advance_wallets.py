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

import heapq
import json
import logging
import time
from collections.abc import Iterable
from datetime import datetime

from app import app, channel, clock, settings
from domain.ids import derived_id
from domain.loyalty_rules import EarnRules, rules_from
from domain.wallet import Wallet, next_due
from ops.metrics import WALLET_TIMER_LATENESS
from streams.codec import encode
from streams.loyalty import AdvanceWallet
from streams.topics import LOYALTY_COMMANDS
from tables.wallets import wallets_table

log = logging.getLogger("omnistream.wallet_timer")
commands = channel(LOYALTY_COMMANDS)
RULES = rules_from(settings.points_per_unit, settings.tier_thresholds, settings.tier_multipliers,
                   settings.excluded_skus)
MAX_PER_TICK = 2_000  # a backlog (a worker down for a day) drains over ticks, not in one burst
RESEND_AFTER_S = 60.0  # a due wallet whose advance was not applied by then is sent another


class DueIndex:
    """The next due moment of each wallet owned here, so the timer need not scan the table.

    A heap of (due, customer) with stale entries skipped when popped: a tick costs what is due,
    not what is owned."""

    def __init__(self, rules: EarnRules) -> None:
        self.rules = rules
        self.due: dict[str, datetime] = {}
        self._heap: list[tuple[datetime, str]] = []
        self.sent: dict[str, float] = {}  # customer -> monotonic time its advance was sent
        self.valid = False

    def note(self, wallet: Wallet) -> None:
        """The wallet as its last command left it: when it is due next."""
        self.sent.pop(wallet.customer_id, None)
        at = next_due(wallet, self.rules)
        if at is None:
            self.due.pop(wallet.customer_id, None)
        elif self.due.get(wallet.customer_id) != at:
            self.due[wallet.customer_id] = at
            heapq.heappush(self._heap, (at, wallet.customer_id))

    def rebuild(self, wallets: Iterable[Wallet]) -> None:
        self.due.clear()
        self._heap.clear()
        self.sent.clear()
        for wallet in wallets:
            self.note(wallet)
        self.valid = True

    def invalidate(self) -> None:
        self.valid = False

    def take_due(self, now: datetime, monotonic: float, limit: int) -> list[str]:
        """Wallets due by `now` with no advance in flight, oldest due first; an advance not
        applied within RESEND_AFTER_S (lost with a rebalance, say) is sent again."""
        for customer, sent_at in list(self.sent.items()):
            if monotonic - sent_at >= RESEND_AFTER_S:
                del self.sent[customer]
                if customer in self.due:
                    heapq.heappush(self._heap, (self.due[customer], customer))
        picked: list[str] = []
        while self._heap and self._heap[0][0] <= now and len(picked) < limit:
            at, customer = heapq.heappop(self._heap)
            if self.due.get(customer) != at or customer in self.sent:
                continue  # superseded by a later note, or already in flight
            picked.append(customer)
            self.sent[customer] = monotonic
        return picked

    def lateness_s(self, now: datetime) -> float:
        """How late the oldest due wallet not yet advanced is (0 when none is due)."""
        waiting = [self.due[c] for c in self.sent if c in self.due]
        while self._heap and self.due.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)  # drop stale tops so the next due is the real one
        if self._heap:
            waiting.append(self._heap[0][0])
        return max([(now - at).total_seconds() for at in waiting if at <= now], default=0.0)


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
        log.warning("wallet timer behind: the oldest due wallet is %.0f s late; advancing %d wallets per %.1f s",
                    late_s, MAX_PER_TICK, settings.wallet_timer_s)
