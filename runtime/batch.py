"""A stage's view of a table between checkpoints: each key loaded once, each changed key written
once per checkpoint.

A stage decides each record against `Pending.get(key)` (the stored value the first time, the
latest decided value after) and records the result with `Pending.put`. Nothing reaches the
table until the stage's source checkpoints (runtime/source.py, every `OMNI_COMMIT_INTERVAL_S`
and before a rebalance): `Pending.flush()` then writes each changed key once, in its partition's
context, so one store write and one changelog record per key per checkpoint, however many
records changed it (Quix Streams and Kafka Streams' record cache do the same). The table
modules write with `write(table, key, value)`, which holds each changelog record for the
checkpoint to send at once (`send`), and the checkpoint waits until Kafka acknowledged every
one of them and every output before it commits the offsets. A crash before that loses the decided values
and the offsets together: the records come again and are decided again.

Readers outside the stage (HTTP views) use `peek`, which sees decided values before they are
flushed and caches nothing.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from faust.streams import _current_event, current_event
from faust.types import TableT

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class _Message:
    topic: str
    partition: int


class _PartitionEvent:
    """What Faust's tables read of the current event: which partition's store and changelog."""

    def __init__(self, topic: str, partition: int) -> None:
        self.message = _Message(topic, partition)


@contextmanager
def in_partition(topic: str, partition: int) -> Iterator[None]:
    """Table reads and writes inside go to `partition`'s store and changelog partition."""
    event = _PartitionEvent(topic, partition)
    token = _current_event.set(weakref.ref(event))  # type: ignore[arg-type]
    try:
        yield
    finally:
        _current_event.reset(token)


@dataclass(frozen=True)
class Held:
    """A changelog record written at a checkpoint, serialized as Faust's table would, not yet sent."""

    table: Any  # faust Table
    topic: str
    partition: int
    key: bytes
    value: bytes | None  # None: a tombstone (the key is deleted)


_held: list[Held] | None = None  # the changelog records of the Pending being flushed


def write(table: TableT[Any, Any], key: Any, value: Any) -> None:
    """What `table[key] = value` does, inside a partition's context and a `Pending.flush`: the
    store write now, the changelog record held for the checkpoint to `send`.

    Faust's own path queues the record as a FutureMessage in its producer buffer and publishes
    it with its per-message machinery: ~125 µs a record, measured (a checkpoint at 1,000 holds/s
    held every record of the stage ~100-300 ms), and its buffer flush gives up when a send
    takes over 0.1 s, so a commit could run ahead of a changelog record not yet sent."""
    assert _held is not None, "table writes belong in a Pending's flush (runtime/batch.py)"
    t = cast(Any, table)  # faust's TableT leaves out what Table.on_key_set uses
    changelog = t.changelog_topic
    raw_key, _ = changelog.prepare_key(key, t.key_serializer)
    raw_value, _ = changelog.prepare_value(value, t.value_serializer)
    _held.append(Held(t, changelog.get_topic_name(), t.partition_for_key(key), raw_key, raw_value))
    t.data[key] = value


def delete(table: TableT[Any, Any], key: Any) -> None:
    """What `del table[key]` does, as `write` does an assignment: the store forgets the key now, a
    tombstone (null value) is held for the checkpoint; compaction then drops the key's records."""
    assert _held is not None, "table writes belong in a Pending's flush (runtime/batch.py)"
    t = cast(Any, table)
    changelog = t.changelog_topic
    raw_key, _ = changelog.prepare_key(key, t.key_serializer)
    _held.append(Held(t, changelog.get_topic_name(), t.partition_for_key(key), raw_key, None))
    t.data.pop(key, None)


async def send(records: list[Held], producer: Any) -> Callable[[], Awaitable[None]]:
    """Hand held changelog records to `producer` (the Faust app's); returns what to await for
    Kafka's acknowledgement of all of them, which also records, as Faust does, the changelog
    offset each RocksDB partition now holds (where recovery starts after a restart)."""
    sent = [(record, await producer.send(topic=record.topic, key=record.key, value=record.value,
                                         partition=record.partition, timestamp=None, headers=None))
            for record in records]

    async def acknowledged() -> None:
        latest: dict[tuple[int, int], tuple[Any, Any, int]] = {}
        for record, future in sent:
            metadata = await future
            latest[(id(record.table), metadata.partition)] = (record.table, metadata.topic_partition,
                                                              metadata.offset)
        for table, tp, offset in latest.values():
            table.data.set_persisted_offset(tp, offset)

    return acknowledged


class Pending(Generic[K, V]):
    def __init__(self, load: Callable[[K], V], store: Callable[[K, V], None] | None = None,
                 store_all: Callable[[list[V]], None] | None = None) -> None:
        """`store(key, value)` writes one value; `store_all(values)` writes a partition's changed
        values together (for a table that keeps several keys' values under one table key)."""
        assert (store is None) != (store_all is None), "give store or store_all"
        self._load = load
        self._store = store
        self._store_all = store_all
        self.values: dict[K, V] = {}
        self.changed: dict[tuple[str, int], dict[K, None]] = {}  # (topic, partition) -> keys, in order

    def get(self, key: K) -> V:
        """For the stage: the latest value, loaded once per checkpoint."""
        try:
            return self.values[key]
        except KeyError:
            value = self.values[key] = self._load(key)
            return value

    def peek(self, key: K) -> V:
        """For readers outside the stage: the latest value, without caching what it loads."""
        try:
            return self.values[key]
        except KeyError:
            return self._load(key)

    def put(self, key: K, value: V) -> None:
        """Record a decided value; must run in a partition's context (`in_partition`)."""
        event = current_event()
        assert event is not None, "Pending.put outside a partition's context"
        self.values[key] = value
        self.changed.setdefault((event.message.topic, event.message.partition), {})[key] = None

    def flush(self) -> list[Held]:
        """Write every changed key once, each in its own partition's context; forget the cache.
        The changelog records written, for the checkpoint to `send`."""
        global _held
        held: list[Held] = []
        _held = held
        try:
            for (topic, partition), keys in self.changed.items():
                with in_partition(topic, partition):
                    if self._store_all is not None:
                        self._store_all([self.values[key] for key in keys])
                    else:
                        assert self._store is not None
                        for key in keys:
                            self._store(key, self.values[key])
        finally:
            _held = None
        self.forget()
        return held

    def forget(self) -> None:
        self.values = {}
        self.changed = {}
