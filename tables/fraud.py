"""The fraud table: entity key (store:, receipt:, sku:, card:, identifier:, loop:) -> its rule's state as JSON.

Written from `fraud.facts` and `customers.purchases` (both keyed so that an entity's records share a
partition): Faust writes a change to the partition of the record being processed, so each entity's
state stays on one changelog partition (docs/fraud.md)."""

from __future__ import annotations

from domain.fraud_judge import stored_json
from runtime.app import app
from runtime.batch import Pending, write
from streams.base import Record
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


def _write(key: str, state: str | Record) -> None:
    write(fraud_table, key, stored_json(state).encode())


# watch_fraud's decided values, written at each checkpoint (runtime/batch.py).
# Values are the states as objects (JSON only when written); a stored one is read as JSON.
fraud_state: Pending[str, str | Record | None] = Pending(_read, _write)  # type: ignore[arg-type]


def get_state(key: str) -> str | None:
    """The entity's state as JSON, as the table keeps it (including what the next checkpoint writes)."""
    state = fraud_state.peek(key)
    return None if state is None else stored_json(state)
