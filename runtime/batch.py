"""Batch-native stages: what the consumer has, one partition at a time, paid for per batch.

A stage built on `BatchStage` gets, for each partition of its source, the records Faust
delivered since the last batch (plus any it jumped over, read again from Kafka: see
runtime/stage.py), in log order, and runs inside that partition's context, so the table reads
and writes it makes land on that partition's store and changelog. Its handler is expected to:

1. decode every record (bad ones to the dead-letter topic),
2. load each key's state once (`Pending` keeps the batch's view of every key it touched),
3. apply the pure decisions in log order,
4. write each changed key once (`Pending.flush`: one store write, one changelog record),
5. send the batch's outputs together, coalesced where only the latest counts.

Faust acks the batch's records after the handler returns; its commit flushes the producer
(changelog and outputs) before it commits the offsets, so a source offset is committed only
after Kafka has every record it caused. A crash before that redelivers the batch, and the
stages' exactly-once rules (watermark and id guards kept in each key's value) recognise it.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from faust import StreamT
from faust.streams import _current_event
from faust.types import TP, EventT

from ops.crashes import fatal
from runtime.offsets import HoleDetector
from runtime.refetch import fetch_range

K = TypeVar("K")
V = TypeVar("V")
BatchHandler = Callable[[TP, list[Any]], Awaitable[None]]

MAX_RECORDS = 2_000  # per take: larger batches save little more and delay answers
WITHIN_S = 0.005  # how long a batch waits to fill once its first record is there


@contextmanager
def in_partition(event: EventT) -> Iterator[None]:
    """Faust's tables pick the partition's store and changelog from the current event: make it
    one of this partition's records while the handler runs."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


class BatchStage:
    def __init__(self, name: str, max_records: int = MAX_RECORDS, within_s: float = WITHIN_S) -> None:
        self.name = name
        self.max_records = max_records
        self.within_s = within_s
        self.holes = HoleDetector(name)

    def forget_positions(self) -> None:
        """After a rebalance the next offset of a partition may legitimately be anywhere."""
        self.holes.forget()

    async def run(self, stream: StreamT, handle: BatchHandler) -> None:
        async for events in stream.take_events(self.max_records, self.within_s):
            by_partition: dict[TP, list[EventT]] = {}
            for event in events:
                by_partition.setdefault(event.message.tp, []).append(event)
            for tp, group in by_partition.items():
                messages = await self._with_skipped(group)
                with in_partition(group[-1]):
                    try:
                        await handle(tp, messages)
                    except Exception as err:  # a bug, not bad input: see ops/crashes.py
                        last = messages[-1]
                        fatal(self.name, last.topic, last.partition, last.offset, err)

    async def _with_skipped(self, events: list[EventT]) -> list[Any]:
        """The partition's messages in log order, with any records the consumer jumped over."""
        out: list[Any] = []
        for event in events:
            message = event.message
            skipped = self.holes.saw(message.topic, message.partition, message.offset)
            if skipped:
                out += await fetch_range(message.topic, message.partition, skipped)
            out.append(message)
        return out


class Pending(Generic[K, V]):
    """The batch's view of a keyed state: each key loaded once, each changed key written once.

    `load` reads the stored value the first time a key is asked for; `put` keeps the new value
    in the batch; `flush` writes every changed key with `store` (one table write each, hence one
    changelog record) and forgets the batch."""

    def __init__(self, load: Callable[[K], V], store: Callable[[V], None] | None = None,
                 store_all: Callable[[list[V]], None] | None = None) -> None:
        """`store` writes one value; `store_all` writes the batch's changed values together
        (for a table that keeps several keys' values under one table key)."""
        assert (store is None) != (store_all is None), "give store or store_all"
        self._load = load
        self._store = store
        self._store_all = store_all
        self.values: MutableMapping[K, V] = {}
        self.changed: dict[K, None] = {}  # insertion-ordered set

    def get(self, key: K) -> V:
        try:
            return self.values[key]
        except KeyError:
            value = self.values[key] = self._load(key)
            return value

    def put(self, key: K, value: V) -> None:
        self.values[key] = value
        self.changed[key] = None

    def flush(self) -> int:
        if self._store_all is not None:
            self._store_all([self.values[key] for key in self.changed])
        else:
            assert self._store is not None
            for key in self.changed:
                self._store(self.values[key])
        written = len(self.changed)
        self.values = {}
        self.changed = {}
        return written
