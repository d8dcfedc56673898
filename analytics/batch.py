"""A micro-batch of the sink: rows per table and the offsets they cover, written as one transaction."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from analytics import columnar, freshness
from analytics.rows import FACT_TABLES, rows_for
from analytics.store import arrow_rows, primary_keys
from streams.codec import DecodeError, decode
from streams.topics import TopicSpec

log = logging.getLogger("omnistream.sink")

# Each fact table's primary key, as its .sql file declares it (analytics/sql/*.sql is the only copy).
PK: dict[str, list[str]] = {table: primary_keys()[table] for table in (*FACT_TABLES, "dead_letters")}


@dataclass
class Batch:
    """Rows and next offsets gathered from one or more polls, written as one transaction.

    A table's rows arrive as row dicts (`rows`, decoded record by record) or as typed frames
    (`parts`, read a topic's batch at a time by `analytics.columnar`); `parts` keeps them in the
    order they came, so `frames()` keeps the first of two rows alike, whichever path made them.
    """

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    parts: dict[str, list[pl.DataFrame]] = field(default_factory=lambda: defaultdict(list))
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    append_ms: list[int] = field(default_factory=list)  # every record's Kafka timestamp
    lateness_s: list[float] = field(default_factory=list)  # every decoded event's
    records: int = 0

    def add_events(self, spec: TopicSpec, values: Iterable[bytes | None], projected_at: datetime,
                   max_bytes: int, append_ms: Sequence[int] | None = None) -> int:
        """Decode and project one topic's record values; how many could not be decoded (skipped:
        the worker dead-letters them, the sink only counts them). `append_ms`, the records' Kafka
        timestamps in the same order, measures each event's lateness (None: not measured)."""
        values = list(values)
        if columnar.reads(spec, len(values)):
            try:
                frames, occurred_s = columnar.project(spec, values, projected_at, max_bytes)
            except columnar.UnreadableError as exc:
                log.warning("%s: %d records decoded one by one (%s)", spec.name, len(values), str(exc)[:200])
            else:
                self.add_frames(frames)
                if append_ms is not None:
                    self.lateness_s.extend(map(freshness.lateness_s, append_ms, occurred_s))
                return 0
        skipped = 0
        for n, value in enumerate(values):
            try:
                event = decode(spec, value, max_bytes)
            except DecodeError:
                skipped += 1
                continue
            if append_ms is not None:
                self.lateness_s.append(freshness.lateness_s(append_ms[n], event.occurred_at.timestamp()))
            for table, rows in rows_for(event, projected_at).items():
                self.rows[table].extend(rows)
        return skipped

    def add_frames(self, frames: dict[str, pl.DataFrame]) -> None:
        """Typed frames (each in its table's own schema) after the rows gathered so far."""
        for table, frame in frames.items():
            self._seal(table)
            self.parts[table].append(frame)

    def _seal(self, table: str) -> None:
        """The table's row dicts so far as one typed frame at the end of its parts."""
        rows = self.rows.pop(table, None)
        if rows:
            self.parts[table].append(pl.DataFrame(arrow_rows(table, rows)))

    @property
    def row_count(self) -> int:
        return sum(map(len, self.rows.values())) + sum(part.height for parts in self.parts.values() for part in parts)

    def frames(self) -> dict[str, pl.DataFrame]:
        """Each table's rows as typed columns (the table's own schema, nothing inferred), without
        repeated keys: `insert or ignore` skips rows already stored, not two alike in one insert."""
        for table in list(self.rows):
            self._seal(table)
        return {
            table: pl.concat(parts).unique(subset=PK[table], keep="first") for table, parts in self.parts.items()
        }
