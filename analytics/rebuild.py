"""`python -m analytics.rebuild`: the projections again from the topics, in one command.

Builds a fresh database in a temporary file with the sink's own code (same consumer, rows and
transactions), reading every fact topic and dead-letter topic from the beginning up to the end
offsets at the start, then atomically replaces the sink's database and the analyst snapshot.
The sink must be stopped: DuckDB lets one process hold the file. Topics keep 30 days
(streams/topics.py INGEST_RETENTION_MS), so a rebuild holds what the topics still hold.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
import time
from pathlib import Path

import duckdb

from analytics.batch import PK
from analytics.sink import Sink
from analytics.store import copy_file
from ops import logs
from ops.processes import get_json
from settings import Settings

log = logging.getLogger("omnistream.rebuild")
REFUSED = 3


def sink_holding(settings: Settings) -> str | None:
    """Why the sink's file cannot be replaced now (a sink is running on it), or None."""
    status, body = get_json(f"http://{settings.sink_host}:{settings.sink_port}/health")
    if status and isinstance(body, dict) and body.get("duckdb") == str(settings.duckdb_path):
        return f"a sink answers on {settings.sink_host}:{settings.sink_port} and writes {settings.duckdb_path}"
    if settings.duckdb_path.exists():
        try:
            duckdb.connect(str(settings.duckdb_path)).close()
        except duckdb.IOException as err:
            if "lock" in str(err).lower():
                return f"another process holds {settings.duckdb_path}: {str(err).splitlines()[0]}"
            raise
    return None


def build(settings: Settings, target: Path) -> dict[str, int]:
    """Project every record up to the current end offsets into a new database at `target`."""
    for stale in (target, target.with_name(target.name + ".wal")):
        stale.unlink(missing_ok=True)
    sink = Sink(dataclasses.replace(settings, duckdb_path=target,
                                    analytics_path=target.with_name(target.name + ".snapshot")))
    try:
        done = asyncio.run(_read_to_the_end(sink, target))
    finally:
        sink.projection.close()
    log.info("rebuild: read %d records", done)
    return counts(target)


async def _read_to_the_end(sink: Sink, target: Path) -> int:
    """Gather and commit batches as the sink does until every partition reaches its end offset
    of now; the records read."""
    tps = await sink.start()
    try:
        ends = await sink.consumer.end_offsets(tps)
        starts = await sink.consumer.beginning_offsets(tps)
        total = sum(ends[tp] - starts[tp] for tp in tps)
        log.info("rebuilding from %d records in %d partitions into %s", total, len(tps), target)
        done, shown = 0, time.monotonic()
        while any([await sink.consumer.position(tp) < ends[tp] for tp in tps]):
            batch = await sink.gather()
            if batch.records:
                await sink.commit(batch)
                sink.unpublished.clear()  # freshness of a replay means nothing; keep memory flat
                done += batch.records
            if time.monotonic() - shown > 2:
                shown = time.monotonic()
                log.info("rebuild: %d of %d records (%.0f%%)", done, total, 100 * done / max(total, 1))
        await sink.duckdb.settled()
        sink.projection.con.execute("checkpoint")
        return done
    finally:
        await sink.stop_reading()


def counts(path: Path) -> dict[str, int]:
    """Rows per projected table of the database at `path`."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: int(con.execute(f"select count(*) from {t}").fetchone()[0])  # type: ignore[index]
                for t in sorted(PK)}


def replace(settings: Settings, built: Path) -> None:
    """The rebuilt file becomes the sink's database (a crashed sink's WAL is dropped: it belongs
    to the old file) and is published as the analyst snapshot."""
    settings.duckdb_path.with_name(settings.duckdb_path.name + ".wal").unlink(missing_ok=True)
    built.replace(settings.duckdb_path)
    copy_file(settings.duckdb_path, settings.analytics_path)


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m analytics.rebuild", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    logs.setup(settings.log_format, settings.log_level)
    reason = sink_holding(settings)
    if reason:
        print(f"refusing to rebuild: {reason}.\nStop the sink (SIGTERM; it finishes its batch), run "
              "`python -m analytics.rebuild` again, then start the sink: it continues from the rebuilt "
              "file's offsets.", file=sys.stderr)
        return REFUSED
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    built = settings.duckdb_path.with_name(settings.duckdb_path.name + ".rebuild")
    started = time.monotonic()
    counts = build(settings, built)
    replace(settings, built)
    for table, rows in counts.items():
        log.info("rebuild: %-24s %d rows", table, rows)
    log.info("rebuilt %s and %s in %.1f s", settings.duckdb_path, settings.analytics_path,
             time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
