"""The dashboard's reader of the analysts' DuckDB snapshot: read-only, re-opened when the sink replaces it."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import duckdb

from analytics.sql_files import sql


class SourceDownError(Exception):
    """A source of a panel (snapshot, worker, sink) cannot answer; the message is for people."""


class Snapshot:
    """One read-only connection to the snapshot file, swapped for a new one when the file is replaced.

    The sink publishes with os.replace, so a new snapshot is a new inode: an open connection
    keeps reading the old one until we notice and re-open. Not thread-safe: call from one thread.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con: duckdb.DuckDBPyConnection | None = None
        self._identity: tuple[int, int] | None = None
        self.published_at = 0.0

    def connection(self) -> duckdb.DuckDBPyConnection:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self.close()
            raise SourceDownError(f"no analytics snapshot yet at {self.path}: is the sink running?") from None
        identity = (stat.st_ino, stat.st_mtime_ns)
        if self._con is None or identity != self._identity:
            self.close()
            try:
                con = duckdb.connect(str(self.path), read_only=True)
            except duckdb.Error as err:
                raise SourceDownError(f"cannot open the analytics snapshot {self.path}: {err}") from None
            con.execute("set TimeZone = 'UTC'")  # "today" is a UTC day, whatever the server's zone
            self._con, self._identity, self.published_at = con, identity, stat.st_mtime
        return self._con

    def age_s(self) -> float:
        return max(0.0, time.time() - self.published_at)

    def has_table(self, name: str) -> bool:
        found = self.connection().execute(
            "select count(*) from information_schema.tables where table_name = ?", [name]
        ).fetchone()
        return bool(found and found[0])

    def rows(self, name: str) -> list[dict[str, Any]]:
        """The rows of the SQL file `name` as dicts; a DuckDB error is a SourceDownError with its text."""
        try:
            return query_rows(self.connection(), name)
        except duckdb.Error as err:
            raise SourceDownError(f"{name}.sql failed on {self.path.name}: {err}") from None

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
        self._con, self._identity = None, None


def query_rows(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    result = con.execute(sql(name))
    columns = [d[0] for d in result.description or []]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
