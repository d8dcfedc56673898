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
    not what is owned. Every wallet in `due` is either in the heap or in flight (`sent`).

    A rebuild runs while commands are still applied (the timer yields to the event loop between
    chunks, so the worker keeps its group membership): a wallet noted by a command during the
    rebuild is newer than what the rebuild reads, so the rebuild leaves it alone.
    """

    def __init__(self, rules: EarnRules) -> None:
        self.rules = rules
        self.due: dict[str, datetime] = {}
        self._heap: list[tuple[datetime, str]] = []
        self.sent: dict[str, float] = {}  # customer -> monotonic time its advance was sent
        self.valid = False
        self.generation = 0  # moves on every invalidation: a rebuild of an older one stops
        self._fresh: set[str] | None = None  # noted by commands while a rebuild runs

    def note(self, wallet: Wallet) -> None:
        """The wallet as its last command left it: when it is due next."""
        if self._fresh is not None:
            self._fresh.add(wallet.customer_id)
        self._set(wallet.customer_id, next_due(wallet, self.rules))

    def _set(self, customer: str, at: datetime | None) -> None:
        if at is None:
            self.due.pop(customer, None)
            self.sent.pop(customer, None)
        elif self.due.get(customer) != at:  # unchanged: an advance in flight stays in flight
            self.due[customer] = at
            self.sent.pop(customer, None)
            heapq.heappush(self._heap, (at, customer))
            if len(self._heap) > 2 * len(self.due) + 1_000:
                self._compact()

    def _compact(self) -> None:
        """Drop superseded heap entries (each change of a wallet's due moment leaves one)."""
        self._heap = [(at, c) for c, at in self.due.items() if c not in self.sent]
        heapq.heapify(self._heap)

    def begin_rebuild(self) -> int:
        """Forget everything; the generation the rebuild belongs to."""
        self.due.clear()
        self._heap.clear()
        self.sent.clear()
        self._fresh = set()
        return self.generation

    def rebuilt(self, wallet: Wallet) -> None:
        """A wallet as the table held it when the rebuild read it."""
        if self._fresh is not None and wallet.customer_id not in self._fresh:
            self._set(wallet.customer_id, next_due(wallet, self.rules))

    def end_rebuild(self, generation: int) -> bool:
        """Whether the rebuild finished for the current generation (the index is valid)."""
        self._fresh = None
        self.valid = generation == self.generation
        return self.valid

    def rebuild(self, wallets: Iterable[Wallet]) -> None:
        generation = self.begin_rebuild()
        for wallet in wallets:
            self.rebuilt(wallet)
        self.end_rebuild(generation)

    def invalidate(self) -> None:
        self.valid = False
        self.generation += 1

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
        while self._heap and (self.due.get(self._heap[0][1]) != self._heap[0][0] or self._heap[0][1] in self.sent):
            heapq.heappop(self._heap)  # drop stale tops so the next due is the real one
        if self._heap:
            waiting.append(self._heap[0][0])
        return max([(now - at).total_seconds() for at in waiting if at <= now], default=0.0)
