"""A stage's view of a table between checkpoints: each key loaded once, each changed key written
once per checkpoint.

A stage decides each record against `Pending.get(key)` (the stored value the first time, the
latest decided value after) and records the result with `Pending.put`. Nothing reaches the
table until the stage's source checkpoints (runtime/source.py, every `OMNI_COMMIT_INTERVAL_S`
and before a rebalance): `Pending.flush()` then writes each changed key once, in its partition's
context, so one store write and one changelog record per key per checkpoint, however many
records changed it (Quix Streams and Kafka Streams' record cache do the same). Then the
producer is flushed and the offsets committed. A crash before that loses the decided values
and the offsets together: the records come again and are decided again.

Readers outside the stage (HTTP views) use `peek`, which sees decided values before they are
flushed and caches nothing.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from faust.streams import _current_event, current_event

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

    def flush(self) -> int:
        """Write every changed key once, each in its own partition's context; forget the cache."""
        written = 0
        for (topic, partition), keys in self.changed.items():
            with in_partition(topic, partition):
                if self._store_all is not None:
                    self._store_all([self.values[key] for key in keys])
                else:
                    assert self._store is not None
                    for key in keys:
                        self._store(key, self.values[key])
            written += len(keys)
        self.forget()
        return written

    def forget(self) -> None:
        self.values = {}
        self.changed = {}
