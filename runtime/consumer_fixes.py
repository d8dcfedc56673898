"""Two fixes to faust-streaming 0.15's consumer, both about records lost around a rebalance.

Faust rewinds to the committed offsets after every rebalance and counts on that for anything it
fetched but did not deliver: the rest of a batch when flow stops mid-iteration
(`Consumer.getmany`: `if not self.flow_active: break`, or the generation changed), a delivery
cancelled by `suspend_flow`, records a fetch handed over for paused partitions. aiokafka has
already moved its position past all of them. But aiokafka's `seek_to_committed` leaves a
partition with no committed offset where it is (`if offset and offset > 0`), so on a partition
nobody has committed yet those records are never delivered: the consumer sits at the high
watermark with lag 1 until the worker restarts. CI saw exactly that: a stock receipt, offset 0
of `inventory.movements[2]`, fetched 0.1 s after a second worker joined, never applied.

1. `seek_to_committed` also seeks the registry's topics that have no committed offset to their
   beginning (`consumer_auto_offset_reset="earliest"` says the same for a fresh group): their
   records come again and each stage's exactly-once rules recognise what was already applied.
   Tables' changelog topics are left alone (Faust's recovery positions them itself).
2. Fetch with a snapshot of the active partitions and nothing when it is empty: aiokafka reads
   an empty set as "every partition" and would hand over the buffered records of paused ones
   (the race is robinhood/faust#69; first seen as a worker restarted after SIGKILL before its
   first commit sitting at the end of its partitions, tests/integration/test_wallet_crash.py).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

log = logging.getLogger("omnistream.consumer")


async def seek_to_committed_or_beginning(
    consumer: AIOKafkaConsumer, rewindable: Collection[str],
) -> Mapping[Any, int | None]:
    """aiokafka's `seek_to_committed`, plus: an assigned partition of a `rewindable` topic with
    no committed offset goes back to its first record instead of staying where it is."""
    committed = await consumer.seek_to_committed()
    never = sorted((tp for tp, offset in committed.items() if not offset and tp.topic in rewindable),
                   key=lambda tp: (tp.topic, tp.partition))
    if never:
        moved = {tp: at for tp in never if (at := _position(consumer, tp))}
        if moved:  # the others are empty or were never read: nothing to say
            log.info("no committed offset yet, reading again from the beginning: %s",
                     ", ".join(f"{tp.topic}[{tp.partition}] (was at {at})" for tp, at in moved.items()))
        await consumer.seek_to_beginning(*never)
    return committed


def _position(consumer: AIOKafkaConsumer, tp: Any) -> int | None:
    """The consumer's position in `tp` without a request (None when it has none)."""
    try:
        state = consumer._subscription.subscription.assignment.state_value(tp)  # noqa: SLF001
        return state.position if state is not None and state.has_valid_position else None
    except AttributeError:  # another aiokafka: only the log line loses detail
        return None


def install(rewindable: Collection[str]) -> None:
    """Patch Faust's aiokafka consumer thread; `rewindable`: the full names of our own topics."""
    names = frozenset(rewindable)

    async def seek_to_committed(self: AIOKafkaConsumerThread) -> Mapping[Any, int | None]:
        return await self.call_thread(seek_to_committed_or_beginning, self._ensure_consumer(), names)

    fetch_records = AIOKafkaConsumerThread._fetch_records

    async def fetch_active_records(
        self: AIOKafkaConsumerThread, consumer: Any, active: set[TP] | None, timeout: float | None = None,
        max_records: int | None = None,
    ) -> Mapping[TP, list[Any]]:
        if active is not None:  # None: a client-only app, which fetches every partition on purpose
            active = set(active)  # copying a set is atomic under the GIL
            if not active:
                return {}
        return await fetch_records(self, consumer, active, timeout=timeout,  # type: ignore[arg-type]
                                   max_records=max_records)

    AIOKafkaConsumerThread.seek_to_committed = seek_to_committed  # type: ignore[method-assign,assignment]
    AIOKafkaConsumerThread._fetch_records = fetch_active_records  # type: ignore[method-assign,assignment]
