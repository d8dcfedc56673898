"""The fraud table: entity key (store:, receipt:, sku:, card:, identifier:, loop:) -> its rule's state as JSON.

Written from `fraud.facts` and `customers.purchases` (both keyed so that an entity's records share a
partition): Faust writes a change to the partition of the record being processed, so each entity's
state stays on one changelog partition (docs/fraud.md)."""

from __future__ import annotations

from runtime.app import app
from runtime.batch import Pending
from streams.topics import FRAUD_FACTS
from tables.options import ROCKSDB_OPTIONS

fraud_table = app.Table(
    "fraud",
    key_type=str,
    value_type=bytes,
    partitions=FRAUD_FACTS.partitions,
    options=ROCKSDB_OPTIONS,
)


def _read(key: str) -> str | None:
    raw = fraud_table.get(key)
    return None if raw is None else raw.decode()


def _write(key: str, state: str) -> None:
    fraud_table[key] = state.encode()


# watch_fraud's decided values, written at each checkpoint (runtime/batch.py).
fraud_state: Pending[str, str | None] = Pending(_read, _write)  # type: ignore[arg-type]


def get_state(key: str) -> str | None:
    return fraud_state.peek(key)
