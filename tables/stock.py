"""The stock table: one value per SKU holding every node's position (the stock authority)."""

from __future__ import annotations

from app import app
from domain.stock import SkuStock
from streams.topics import STOCK_PARTITIONS
from tables.options import ROCKSDB_OPTIONS

# Renaming this table discards its changelog (`<app id>-stock-changelog`): a migration.
stock_table = app.Table(
    "stock",
    key_type=str,
    value_type=bytes,
    partitions=STOCK_PARTITIONS,
    options=ROCKSDB_OPTIONS,
)


def get_stock(sku: str) -> SkuStock:
    raw = stock_table.get(sku)
    return SkuStock(sku=sku) if raw is None else SkuStock.model_validate_json(raw)


def put_stock(stock: SkuStock) -> None:
    # Always assign: a value mutated in place is never written to the changelog.
    # Defaults left out: most positions are a few numbers, and 2 million of them add up.
    stock_table[stock.sku] = stock.model_dump_json(exclude_defaults=True).encode()
