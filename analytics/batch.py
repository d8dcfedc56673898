"""A micro-batch of the sink: rows per table and the offsets they cover, written as one transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from analytics import freshness
from analytics.rows import FACT_TABLES, rows_for
from analytics.store import arrow_rows, primary_keys
from streams.codec import DecodeError, decode
from streams.topics import TopicSpec

# Each fact table's primary key, as its .sql file declares it (analytics/sql/*.sql is the only copy).
PK: dict[str, list[str]] = {table: primary_keys()[table] for table in (*FACT_TABLES, "dead_letters")}


@dataclass
class Batch:
    """Rows and next offsets gathered from one or more polls, written as one transaction."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    append_ms: list[int] = field(default_factory=list)  # every record's Kafka timestamp
    lateness_s: list[float] = field(default_factory=list)  # every decoded event's
    records: int = 0

    def add_events(self, spec: TopicSpec, values: Iterable[bytes | None], projected_at: datetime,
                   max_bytes: int, append_ms: Sequence[int] | None = None) -> int:
        """Decode and project one topic's record values; how many could not be decoded (skipped:
        the worker dead-letters them, the sink only counts them). `append_ms`, the records' Kafka
        timestamps in the same order, measures each event's lateness (None: not measured)."""
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

    def frames(self) -> dict[str, pl.DataFrame]:
        """Each table's rows as typed columns (the table's own schema, nothing inferred), without
        repeated keys: `insert or ignore` skips rows already stored, not two alike in one insert."""
        return {
            table: pl.DataFrame(arrow_rows(table, rows)).unique(subset=PK[table], keep="first")
            for table, rows in self.rows.items()
        }
