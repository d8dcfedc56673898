"""What is worked out once per frozen event (a node, the cost tables), kept by the event's identity. Pure.

Frozen events cannot be hashed (their lists are not), and hashing them would cost more than
the work saved; identity is enough because they never change. Each entry holds its object,
so the id cannot be reused by another object while the entry lives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ByIdentity(Generic[K, V]):
    """`build(obj)` once per object; forgotten wholesale when `limit` objects are held."""

    def __init__(self, build: Callable[[K], V], limit: int) -> None:
        self._build, self._limit = build, limit
        self._known: dict[int, tuple[K, V]] = {}

    def __call__(self, obj: K) -> V:
        known = self._known.get(id(obj))
        if known is not None and known[0] is obj:
            return known[1]
        if len(self._known) >= self._limit:
            self._known.clear()
        value = self._build(obj)
        self._known[id(obj)] = (obj, value)
        return value
