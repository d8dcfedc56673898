"""The orders table: each online order's saga state, keyed by order id (docs/inventory.md)."""

from __future__ import annotations

from domain.orders import OrderState
from runtime.app import app
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


def get_order(order_id: str) -> OrderState | None:
    raw = orders_table.get(order_id)
    return None if raw is None else OrderState.model_validate_json(raw)


def put_order(state: OrderState) -> None:
    orders_table[state.order_id] = state.model_dump_json().encode()
