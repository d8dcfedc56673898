"""Paces sends to a target rate without drift: a token bucket on the monotonic clock."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Lets `rate` events per second through on average, in bursts of at most `burst`.

    Tokens accrue from the clock, so a slow send or a coarse sleep is made up by the next
    sends instead of drifting the whole run late, as sleeping 1/rate per event would.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate / 20)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._last = clock()

    def take(self) -> None:
        """Waits until one event may go; returns at once when the rate is 0 (unlimited)."""
        if self.rate <= 0:
            return
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1:
            self._sleep((1 - self._tokens) / self.rate)
            now = self._clock()
            self._tokens += (now - self._last) * self.rate
            self._last = now
        self._tokens -= 1
