"""The sink's DuckDB file: rows and the offsets they cover land in one transaction."""

from __future__ import annotations

import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from analytics.sql_files import SCHEMA, sql

log = logging.getLogger("omnistream.duckdb")

OFFSETS_SCHEMA = {
    "topic": pl.Utf8,
    "partition": pl.Int32,
    "next_offset": pl.Int64,
    "updated_at": pl.Datetime("us", "UTC"),
}


class Projection:
    """The single writer of the analytics database. Analysts read the published snapshot."""

    def __init__(self, path: Path, snapshot_path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.snapshot_path = snapshot_path
        self.con = duckdb.connect(str(path))
        for name in SCHEMA:
            self.con.execute(sql(name))
        self.dirty = False

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
            self._insert_offsets(offsets)
            self.con.commit()
        except Exception:
            self.con.rollback()
            raise
        self.dirty = True
        return inserted

    def _insert(self, table: str, frame: pl.DataFrame) -> int:
        self.con.register("batch_rows", frame.to_arrow())
        try:
            result = self.con.execute(f"insert or ignore into {table} by name select * from batch_rows")
            row = result.fetchone()
            return int(row[0]) if row else 0
        finally:
            self.con.unregister("batch_rows")

    def _insert_offsets(self, offsets: dict[tuple[str, int], int]) -> None:
        if not offsets:
            return
        now = datetime.now(UTC)
        frame = pl.DataFrame(
            [{"topic": t, "partition": p, "next_offset": o, "updated_at": now} for (t, p), o in offsets.items()],
            schema=OFFSETS_SCHEMA,
        )
        self.con.register("batch_offsets", frame.to_arrow())
        try:
            self.con.execute("insert or replace into sink_offsets by name select * from batch_offsets")
        finally:
            self.con.unregister("batch_offsets")

    def publish_snapshot(self) -> bool:
        """Copy a checkpointed database to the analysts' path, atomically; False if unchanged.

        DuckDB lets one process hold a file for writing and refuses all others meanwhile, so
        analysts never open the sink's file: they open this copy read-only, and a reader that
        has it open keeps the old inode when the next copy replaces it.
        """
        if not self.dirty:
            return False
        self.con.execute("checkpoint")
        tmp = self.snapshot_path.with_name(self.snapshot_path.name + ".tmp")
        shutil.copyfile(self.path, tmp)
        os.replace(tmp, self.snapshot_path)
        self.dirty = False
        return True

    def close(self) -> None:
        self.con.close()
