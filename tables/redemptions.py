"""The redemptions table: each stamped purchase's promotions, keyed by receipt or order id (docs/pricing.md)."""

from __future__ import annotations

from domain.pricing.settlement import Redemption
from runtime.app import app
from runtime.batch import Pending, write
from streams.topics import INGEST_PARTITIONS
from tables.options import ROCKSDB_OPTIONS

# Written while handling pricing.redemptions, keyed by the purchase with this many partitions.
redemptions_table = app.Table(
    "promotion-redemptions",
    key_type=str,
    value_type=bytes,
    partitions=INGEST_PARTITIONS,
    options=ROCKSDB_OPTIONS,
)


def _read(key: str) -> Redemption | None:
    raw = redemptions_table.get(key)
    return None if raw is None else Redemption.model_validate_json(raw)


def _write(key: str, state: Redemption | None) -> None:
    assert state is not None
    write(redemptions_table, key, state.model_dump_json().encode())


redemption_state: Pending[str, Redemption | None] = Pending(_read, _write)
