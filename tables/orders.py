"""The orders table: each online order's saga state, keyed by order id (docs/inventory.md)."""

from __future__ import annotations

from domain.orders import OrderState
from runtime.app import app
from runtime.batch import Pending, write
from streams.topics import INGEST_PARTITIONS
from tables.options import ROCKSDB_OPTIONS

# Written while handling records of web.orders and inventory.hold-answers, both keyed by the
# order id with this many partitions: an order's state lives on its own partition.
orders_table = app.Table(
    "orders",
    key_type=str,
    value_type=bytes,
    partitions=INGEST_PARTITIONS,
    options=ROCKSDB_OPTIONS,
)


def _read(order_id: str) -> OrderState | None:
    raw = orders_table.get(order_id)
    return None if raw is None else OrderState.model_validate_json(raw)


def _write(order_id: str, state: OrderState | None) -> None:
    assert state is not None
    write(orders_table, order_id, state.model_dump_json().encode())


# order_saga's decided values, written at each checkpoint (runtime/batch.py).
order_state: Pending[str, OrderState | None] = Pending(_read, _write)


def get_order(order_id: str) -> OrderState | None:
    return order_state.peek(order_id)
