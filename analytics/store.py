"""The sink's DuckDB file: rows and the offsets they cover land in one transaction."""

from __future__ import annotations

import logging
import os
import shutil
import struct
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from analytics.sql_files import SCHEMA, sql

log = logging.getLogger("omnistream.duckdb")

# Files are written in the v1.4.0 storage format, which the duckdb CLI (1.5.x) can read; python
# duckdb 2.0's own default (storage version 69) is refused by it. The format of a file is fixed
# when it is created: `python -m analytics.rebuild` recreates an older file in this one.
STORAGE: dict[str, str | bool | int | float | list[str]] = {"storage_compatibility_version": "v1.4.0"}
CLI_READABLE_VERSIONS = range(64, 69)
STATUS_KEEP = "1 day"
_EMPTY = pl.DataFrame()


@cache
def primary_keys() -> dict[str, list[str]]:
    """Every table's primary key columns as its `.sql` file declares them (the only copy)."""
    con = duckdb.connect()
    try:
        for name in SCHEMA:
            con.execute(sql(name))
        rows = con.execute("select table_name, constraint_column_names from duckdb_constraints() "
                           "where constraint_type = 'PRIMARY KEY'").fetchall()
        return {table: list(columns) for table, columns in rows}
    finally:
        con.close()


@cache
def arrow_schemas() -> dict[str, pa.Schema]:
    """Every table's Arrow schema as its `.sql` file declares it, read from an in-memory DuckDB.

    Rows become columns of these types directly: inferring the types from the values was a third
    of the sink's time, and spelling them again in Python would be a second copy to keep in step.
    """
    con = duckdb.connect()
    try:
        for name in SCHEMA:
            con.execute(sql(name))
        tables = [name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()]
        return {name: con.sql(f"select * from {name} limit 0").to_arrow_table().schema for name in tables}
    finally:
        con.close()


def arrow_rows(table: str, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Row dicts as `table`'s typed columns (a missing key is null). A key the table has no column
    for is an error, as `insert ... by name` made it: a field must not be dropped silently."""
    schema = arrow_schemas()[table]
    unknown = set().union(*rows) - set(schema.names)
    if unknown:
        raise ValueError(f"{table} has no column for {sorted(unknown)}: add it to analytics/sql/{table}.sql")
    return pa.Table.from_pylist(list(rows), schema=schema)


def storage_version(path: Path) -> int | None:
    """The storage version number in a DuckDB file's header (None: no file or not DuckDB)."""
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except FileNotFoundError:
        return None
    if len(header) < 20 or header[8:12] != b"DUCK":
        return None
    return int(struct.unpack("<Q", header[12:20])[0])


def cli_readable(path: Path) -> bool:
    """Whether the duckdb CLI can open the file (a file not yet created will be)."""
    version = storage_version(path)
    return version is None or version in CLI_READABLE_VERSIONS


class Projection:
    """The single writer of the analytics database. Analysts read the published snapshot."""

    def __init__(self, path: Path, snapshot_path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.snapshot_path = snapshot_path
        self.con = duckdb.connect(str(path), config=STORAGE)
        self.dirty = self._drop_outdated_status()
        for name in SCHEMA:
            self.con.execute(sql(name))
        self.cli_readable = cli_readable(path)
        if not self.cli_readable:
            log.warning(
                "%s has storage version %s, which the duckdb CLI cannot read (it reads %d-%d); Python "
                "readers are fine. Stop the sink and run `python -m analytics.rebuild` to recreate it.",
                path, storage_version(path), CLI_READABLE_VERSIONS.start, CLI_READABLE_VERSIONS.stop - 1,
            )

    def _drop_outdated_status(self) -> bool:
        """Drop a `sink_status` whose lags were measured from occurred_at (it has no lateness
        columns); whether it did, so the recreated table reaches the analysts' snapshot.

        Dropped rather than altered: the table is only the sink's self-report of the last day, and
        rows kept under new columns would go on showing days of "lag" that meant lateness.
        """
        [(outdated,)] = self.con.execute(sql("sink_status_outdated")).fetchall()
        if not outdated:
            return False
        log.info("%s: sink_status measured lag from event time; recreating it (a day of self-report)", self.path)
        self.con.execute("drop table sink_status")
        return True

    def next_offsets(self) -> dict[tuple[str, int], int]:
        rows = self.con.execute("select topic, partition, next_offset from sink_offsets").fetchall()
        return {(topic, partition): offset for topic, partition, offset in rows}

    def write(self, frames: dict[str, pl.DataFrame], offsets: dict[tuple[str, int], int]) -> dict[str, int]:
        """Insert each frame's new rows (primary keys make repeats no-ops) and move offsets."""
        inserted: dict[str, int] = {}
        self.con.begin()
        try:
            for table, frame in frames.items():
                if frame.height:
                    inserted[table] = self._insert(table, frame)
            if frames.get("fct_customer_erasures", _EMPTY).height or frames.get("fct_customer_merges", _EMPTY).height:
                self.con.execute(sql("erase_customer_links"))
            self._insert_offsets(offsets)
            self.con.commit()
        except Exception:
            self.con.rollback()
            raise
        self.dirty = True
        return inserted

    def _insert(self, table: str, frame: pl.DataFrame) -> int:
        return self._execute_with("batch_rows", frame.to_arrow(),
                                  f"insert or ignore into {table} by name select * from batch_rows")

    def _insert_offsets(self, offsets: dict[tuple[str, int], int]) -> None:
        if not offsets:
            return
        now = datetime.now(UTC)
        rows = [{"topic": t, "partition": p, "next_offset": o, "updated_at": now} for (t, p), o in offsets.items()]
        self._execute_with("batch_offsets", arrow_rows("sink_offsets", rows),
                           "insert or replace into sink_offsets by name select * from batch_offsets")

    def _execute_with(self, view: str, rows: pa.Table, statement: str) -> int:
        """Run `statement` with `rows` visible as `view`; the rows it changed."""
        self.con.register(view, rows)
        try:
            result = self.con.execute(statement).fetchone()
            return int(result[0]) if result else 0
        finally:
            self.con.unregister(view)

    def publish_snapshot(self, status: dict[str, Any] | None = None) -> float | None:
        """Copy a checkpointed database to the analysts' path, atomically; the seconds it took
        (checkpoint and copy), or None if nothing changed.

        DuckDB lets one process hold a file for writing and refuses all others meanwhile, so
        analysts never open the sink's file: they open this copy read-only, and a reader that
        has it open keeps the old inode when the next copy replaces it. `status` becomes this
        snapshot's `sink_status` row.
        """
        if not self.dirty:
            return None
        started = time.perf_counter()
        if status is not None:
            self._insert_status(status)
        self.con.execute("checkpoint")
        copy_file(self.path, self.snapshot_path)
        self.dirty = False
        return time.perf_counter() - started

    def _insert_status(self, status: dict[str, Any]) -> None:
        self._execute_with("status_row", arrow_rows("sink_status", [status]),
                           "insert or replace into sink_status by name select * from status_row")
        self.con.execute(f"delete from sink_status where published_at < now() - interval '{STATUS_KEEP}'")

    def close(self) -> None:
        self.con.close()


def copy_file(source: Path, dest: Path) -> None:
    """Copy to a temporary name beside `dest`, then rename: a reader sees the old or the new file."""
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, dest)
