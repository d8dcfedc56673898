"""Consumer lag of the consumers that run beside Faust's (the router, the stages' sources), for
the `/metrics` view: each registers a function giving {(topic, partition): lag}."""

from __future__ import annotations

from collections.abc import Callable

Lags = dict[tuple[str, int], int]
_reporters: list[Callable[[], Lags]] = []


def register(reporter: Callable[[], Lags]) -> None:
    _reporters.append(reporter)


def current() -> Lags:
    out: Lags = {}
    for reporter in _reporters:
        out.update(reporter())
    return out
