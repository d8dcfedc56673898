"""Distinct primary keys per table, counted in a scratch DuckDB file instead of Python sets.

`python -m analytics.reconcile` re-reads the fact topics and counts the distinct rows they imply.
A month of a chain's sales lines is hundreds of millions of keys: as Python tuples in sets that
is tens of GB. DuckDB keeps them as columns, and its DISTINCT spills to disk past `memory_limit`.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa


class DistinctKeys:
    """Collects keys per table in batches of `flush_every`; `counts()` gives each table's distinct keys."""

    def __init__(self, memory_limit: str = "1GB", flush_every: int = 50_000) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="omni-reconcile-")
        self._con = duckdb.connect(str(Path(self._dir.name) / "keys.duckdb"),
                                   config={"memory_limit": memory_limit, "temp_directory": self._dir.name})
        self._flush_every = flush_every
        self._pending: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        self._tables: dict[str, int] = {}  # table -> key width

    def add(self, table: str, keys: Iterable[tuple[Any, ...]]) -> None:
        pending = self._pending[table]
        for key in keys:
            pending.append(tuple(str(part) for part in key))  # one type per column: text
            if len(pending) >= self._flush_every:
                self._flush(table)
                pending = self._pending[table]

    def counts(self) -> dict[str, int]:
        for table in list(self._pending):
            self._flush(table)
        return {table: int(self._con.execute(f'select count(*) from (select distinct * from "{table}")')
                           .fetchone()[0])  # type: ignore[index]
                for table in self._tables}

    def close(self) -> None:
        self._con.close()
        self._dir.cleanup()

    def __enter__(self) -> DistinctKeys:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _flush(self, table: str) -> None:
        keys = self._pending.pop(table, [])
        if not keys:
            return
        if table not in self._tables:  # a table's keys all have its primary key's width
            self._tables[table] = len(keys[0])
            columns = ", ".join(f"k{i} varchar" for i in range(len(keys[0])))
            self._con.execute(f'create table "{table}" ({columns})')
        batch = pa.table({f"k{i}": [key[i] for key in keys] for i in range(self._tables[table])})
        self._con.register("key_batch", batch)
        try:
            self._con.execute(f'insert into "{table}" select * from key_batch')
        finally:
            self._con.unregister("key_batch")
