"""The stock table: one value per SKU holding every node's position (the stock authority)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from domain.stock import SkuStock
from runtime.app import app
from runtime.batch import Pending, write
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

# Decoded values of the SKUs this worker applied or read lately. Only `apply_movements` writes
# the table, always through `stock_state`, so a cached value is the stored one; the cache is
# dropped whenever partitions move (a SKU may come back changed by another worker).
CACHE_SKUS = 20_000
_cache: OrderedDict[str, SkuStock] = OrderedDict()


def _read(sku: str) -> SkuStock:
    cached = _cache.get(sku)
    if cached is not None:
        _cache.move_to_end(sku)
        return cached
    raw = stock_table.get(sku)
    stock = SkuStock(sku=sku) if raw is None else SkuStock.model_validate_json(raw)
    if raw is not None:
        _remember(stock)
    return stock


def _write(stock: SkuStock) -> None:
    # Always assign: a value mutated in place is never written to the changelog. Defaults are
    # left out: most positions are a few numbers, and 2 million of them add up.
    write(stock_table, stock.sku, stock.model_dump_json(exclude_defaults=True).encode())
    _remember(stock)


# apply_movements' decided values, written at each checkpoint (runtime/batch.py).
stock_state: Pending[str, SkuStock] = Pending(_read, lambda _, stock: _write(stock))


def get_stock(sku: str) -> SkuStock:
    """The SKU as decided so far, including what the next checkpoint will write."""
    return stock_state.peek(sku)


def forget_cached() -> None:
    _cache.clear()


def _remember(stock: SkuStock) -> None:
    _cache[stock.sku] = stock
    _cache.move_to_end(stock.sku)
    if len(_cache) > CACHE_SKUS:
        _cache.popitem(last=False)


def owned_stock() -> Iterator[SkuStock]:
    """Every SKU in the partitions this worker owns, as decided so far (values the next
    checkpoint will write replace the stored ones)."""
    decided = dict(stock_state.values)
    for raw in stock_table.values():
        stock = SkuStock.model_validate_json(raw)
        yield decided.pop(stock.sku, stock)
    yield from decided.values()
