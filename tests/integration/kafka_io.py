"""Test-side Kafka and DuckDB helpers: produce, read a DLQ, wait, query the analyst snapshot."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from settings import KafkaSecurity

T = TypeVar("T")


def security() -> dict[str, Any]:
    """The test's own clients authenticate as KAFKA_SECURITY_PROTOCOL and friends say (a secured cluster)."""
    return KafkaSecurity.from_env().kafka_python_kwargs()


def producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all", enable_idempotence=True, linger_ms=5,
                         **security())


def read_all(bootstrap: str, topic: str, expect: int, timeout_s: float = 30.0) -> list[Any]:
    """Every record of `topic` from the beginning, waiting until at least `expect` arrived."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, **security())
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while len(records) < expect and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def wait_for(probe: Callable[[], T], done: Callable[[T], bool], timeout_s: float, what: str) -> T:
    """Poll `probe` until `done(value)`; on timeout fail with the last value seen."""
    deadline = time.monotonic() + timeout_s
    value = probe()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}; last value: {value!r}")
        time.sleep(0.5)
        value = probe()
    return value


def wait_while_progressing(
    probe: Callable[[], T], done: Callable[[T], bool], stall_s: float, what: str, limit_s: float = 900
) -> T:
    """Poll `probe` until `done(value)`; fail once the value has not changed for `stall_s`.

    For waits on work whose pace depends on the machine (a worker draining a simulated day on
    a busy CI runner): a stall is a bug, a slow machine is not. Speed is the benchmarks' job
    (`python -m bench.pipeline`); `limit_s` only bounds a run that moves forever.
    """
    started = changed = time.monotonic()
    value = probe()
    while not done(value):
        now = time.monotonic()
        if now - changed > stall_s or now - started > limit_s:
            stalled = now - changed > stall_s
            why = f"no progress for {now - changed:.0f}s" if stalled else f"still moving after {limit_s}s"
            raise AssertionError(f"{why} waiting for {what}; last value: {value!r}")
        time.sleep(0.5)
        latest = probe()
        if latest != value:
            value, changed = latest, time.monotonic()
    return value


def query(snapshot: Path, sql: str) -> list[tuple[Any, ...]]:
    """Run SQL on the analysts' read-only snapshot, as an analyst would; [] before the first one."""
    if not snapshot.exists():
        return []
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def scalar(snapshot: Path, sql: str) -> Any:
    rows = query(snapshot, sql)
    return rows[0][0] if rows else None


def read_to_end(bootstrap: str, topic: str, timeout_s: float = 30.0) -> list[Any]:
    """Every record of `topic` up to its end offsets as of the call."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, **security())
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end for tp, end in ends.items()) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()
