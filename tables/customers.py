"""The customers table: customer id -> its identifiers, merges and erasure (domain/erasure.py)."""

from __future__ import annotations

from domain.erasure import CustomerRecord
from runtime.app import app
from runtime.batch import Pending, write
from streams.topics import IDENTITY_REQUESTS
from tables.options import ROCKSDB_OPTIONS

customers_table = app.Table(
    "customers",
    key_type=str,
    value_type=bytes,
    partitions=IDENTITY_REQUESTS.partitions,
    options=ROCKSDB_OPTIONS,
)


def _read(customer_id: str) -> CustomerRecord | None:
    raw = customers_table.get(customer_id)
    return None if raw is None else CustomerRecord.model_validate_json(raw)


def _write(customer_id: str, record: CustomerRecord | None) -> None:
    assert record is not None, "a customer record is never deleted: an erased one keeps when and by whom"
    write(customers_table, customer_id, record.model_dump_json(exclude_defaults=True).encode())


# The stage's decided values, written at each checkpoint (runtime/batch.py).
customer_state: Pending[str, CustomerRecord | None] = Pending(_read, _write)


def get_customer(customer_id: str) -> CustomerRecord | None:
    return customer_state.peek(customer_id)
