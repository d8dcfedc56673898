"""Which stock movements were applied, and at which offset: the replay and duplicate guard."""

from __future__ import annotations

from runtime.app import app
from runtime.batch import Pending, write
from streams.topics import STOCK_PARTITIONS
from tables.options import ROCKSDB_OPTIONS

# Keyed by movement id; written while handling a SKU-keyed record, so each id lives in its
# SKU's partition and the lookup is local. Grows with movements: see docs/inventory-slice.md.
applied_table = app.Table(
    "stock-applied",
    key_type=str,
    value_type=bytes,
    partitions=STOCK_PARTITIONS,
    options=ROCKSDB_OPTIONS,
)


def _read(movement_id: str) -> int | None:
    raw = applied_table.get(movement_id)
    return None if raw is None else int(raw)


def _write(movement_id: str, offset: int | None) -> None:
    assert offset is not None
    write(applied_table, movement_id, str(offset).encode())


# apply_movements' remembered ids, written at each checkpoint with the stock (runtime/batch.py).
applied_state: Pending[str, int | None] = Pending(_read, _write)


def first_offset(movement_id: str) -> int | None:
    return applied_state.peek(movement_id)
