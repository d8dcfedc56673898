"""The orders table: each online order's saga state, keyed by order id (docs/inventory.md)."""

from __future__ import annotations

from pydantic import TypeAdapter

from domain.orders import OrderState
from runtime.app import app
from runtime.batch import Pending, write
from streams.fulfilment import FulfilmentDecided
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


# Each sourced order's decisions (the last ten, as published on fulfilment.decisions): kept apart
# from the order's state, which every hold answer reads and writes, because an explanation
# (eliminations, candidates) is many times the size of the order.
decisions_table = app.Table(
    "order-decisions",
    key_type=str,
    value_type=bytes,
    partitions=INGEST_PARTITIONS,
    options=ROCKSDB_OPTIONS,
)
KEPT_DECISIONS = 10


def _read_decisions(order_id: str) -> list[FulfilmentDecided]:
    raw = decisions_table.get(order_id)
    return [] if raw is None else _DECISIONS.validate_json(raw)


def _write_decisions(order_id: str, decided: list[FulfilmentDecided]) -> None:
    write(decisions_table, order_id, _DECISIONS.dump_json(decided[-KEPT_DECISIONS:]))


_DECISIONS: TypeAdapter[list[FulfilmentDecided]] = TypeAdapter(list[FulfilmentDecided])
decision_state: Pending[str, list[FulfilmentDecided]] = Pending(_read_decisions, _write_decisions)


def get_decisions(order_id: str) -> list[FulfilmentDecided]:
    return decision_state.peek(order_id)
