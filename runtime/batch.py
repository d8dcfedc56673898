"""A batch's view of a keyed state: each key loaded once, each changed key written once.

A stage's handler (runtime/source.py) gets one partition's records in log order. It decides
each record against `Pending.get(key)` (the stored value the first time, the batch's latest
after), records the result with `Pending.put`, and calls `Pending.flush()` once at the end:
one table write per changed key, hence one store write and one changelog record, however many
records the batch had for that key.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Pending(Generic[K, V]):
    def __init__(self, load: Callable[[K], V], store: Callable[[K, V], None] | None = None,
                 store_all: Callable[[list[V]], None] | None = None) -> None:
        """`store(key, value)` writes one value; `store_all(values)` writes the batch's changed
        values together (for a table that keeps several keys' values under one table key)."""
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
                self._store(key, self.values[key])
        written = len(self.changed)
        self.values = {}
        self.changed = {}
        return written
