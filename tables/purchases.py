"""The purchases table: purchase key -> whose it is and what it earned (domain/purchases.py)."""

from __future__ import annotations

from domain.purchases import PurchaseRecord
from runtime.app import app
from runtime.batch import Pending, write
from streams.topics import IDENTITY_REQUESTS
from tables.options import ROCKSDB_OPTIONS

purchases_table = app.Table(
    "purchases",
    key_type=str,
    value_type=bytes,
    partitions=IDENTITY_REQUESTS.partitions,
    options=ROCKSDB_OPTIONS,
)


def _read(key: str) -> PurchaseRecord | None:
    raw = purchases_table.get(key)
    return None if raw is None else PurchaseRecord.model_validate_json(raw)


def _write(key: str, record: PurchaseRecord) -> None:
    write(purchases_table, key, record.model_dump_json(exclude_defaults=True).encode())


# The stage's decided values, written at each checkpoint (runtime/batch.py).
purchase_state: Pending[str, PurchaseRecord | None] = Pending(_read, _write)  # type: ignore[arg-type]


def get_purchase(key: str) -> PurchaseRecord | None:
    return purchase_state.peek(key)
