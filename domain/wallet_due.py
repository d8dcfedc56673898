"""Which wallets are due: the next moment time alone changes each wallet a worker owns. Pure.

The wallet timer (agents/advance_wallets.py) keeps one per worker: noted whenever a command is
applied, rebuilt from the table after a rebalance, asked every tick for what is due.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime

from domain.loyalty_rules import EarnRules
from domain.wallet import Wallet, next_due

# A backlog (a worker down for a day, a sale day's lots maturing in one minute) drains at this
# pace per worker, oldest first, leaving the wallet stage room for redemptions someone waits for.
ADVANCES_PER_S = 500
# A due wallet whose advance was not applied by then is sent another. Only a backstop: a sent
# advance is in the log (acks=all) and a rebalance rebuilds the index; a shorter wait would
# resend into a stage that is merely behind, adding load where it is already short.
RESEND_AFTER_S = 600.0


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
        applied within RESEND_AFTER_S is sent again."""
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
