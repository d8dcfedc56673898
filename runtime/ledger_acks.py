"""Which ledger entries Kafka has acknowledged, per movements partition.

The stock table keeps an entry's numbers until its send is acknowledged (see domain/stock.py);
this tracker answers "below which offset is every entry of this partition in Kafka?" within
milliseconds of the send, instead of waiting for Faust's next commit.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from faust.types import TP


class LedgerAcks:
    def __init__(self) -> None:
        self.in_flight: dict[TP, dict[int, int]] = defaultdict(dict)  # offset -> sends pending

    def expecting(self, tp: TP, offset: int) -> None:
        """An entry for the record at `offset` will be sent (registered when it is decided, so
        that later records of the same batch see it pending before it is even sent)."""
        pending = self.in_flight[tp]
        pending[offset] = pending.get(offset, 0) + 1

    def sending(self, tp: TP, offset: int, future: asyncio.Future[object]) -> None:
        """The send of an entry announced with `expecting`: acknowledged when `future` is."""
        future.add_done_callback(lambda f: self._done(tp, offset, f))

    def _done(self, tp: TP, offset: int, future: asyncio.Future[object]) -> None:
        if future.cancelled() or future.exception() is not None:
            return  # never acknowledged: keep it pending, so its numbers are never dropped
        pending = self.in_flight[tp]
        pending[offset] -= 1
        if not pending[offset]:
            del pending[offset]

    def acknowledged_below(self, tp: TP, offset: int) -> int:
        """Every entry emitted for `tp` below the returned offset is acknowledged."""
        pending = self.in_flight[tp]
        return min(pending) if pending else offset
