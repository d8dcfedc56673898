"""The analyst snapshot: readable by the duckdb CLI, carries its freshness, backs off as it grows."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from analytics.freshness import BACKOFF, Unpublished, lags_s, lateness_s, next_interval, quantiles
from analytics.sql_files import sql
from analytics.store import STORAGE, Projection, cli_readable, storage_version

CLI = Path(sys.executable).with_name("duckdb")


def _status(records: int) -> dict:
    return {"published_at": datetime.now(UTC), "records": records, "lag_p50_ms": 10.0, "lag_p99_ms": 20.0,
            "lag_max_ms": 30.0, "lateness_p50_ms": 40.0, "lateness_p99_ms": 50.0, "lateness_max_ms": 60.0,
            "snapshot_ms": 1.5, "interval_s": 1.0}


def test_the_published_snapshot_is_readable_by_the_duckdb_cli_and_carries_its_status_row(tmp_path: Path) -> None:
    projection = Projection(tmp_path / "omni.duckdb", tmp_path / "analytics.duckdb")
    projection.write({}, {("t", 0): 7})
    took = projection.publish_snapshot(_status(3))
    assert took is not None and took >= 0
    assert projection.publish_snapshot(_status(0)) is None, "nothing changed: no new snapshot"
    projection.close()
    assert cli_readable(tmp_path / "analytics.duckdb")
    out = subprocess.run(
        [str(CLI), "-readonly", "-csv", str(tmp_path / "analytics.duckdb"), "-c",
         "select records, lag_p99_ms, lateness_p99_ms from sink_status; select next_offset from sink_offsets"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    assert "3,20.0,50.0" in out and "7" in out


def test_a_file_in_python_duckdbs_default_storage_version_is_flagged_as_unreadable_by_the_cli(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new-format.duckdb"
    duckdb.connect(str(path)).close()
    assert not cli_readable(path)
    assert storage_version(path) != storage_version(tmp_path / "missing.duckdb")
    assert cli_readable(tmp_path / "missing.duckdb"), "a file the sink will create is fine"
    assert not Projection(path, tmp_path / "analytics.duckdb").cli_readable


def test_lag_percentiles_are_nearest_rank_in_milliseconds_and_append_times_after_publish_count_as_zero() -> None:
    lags = lags_s(100.0, [99_000] * 98 + [90_000, 200_000])
    assert (quantiles(lags).p50_ms, quantiles(lags).p99_ms, quantiles(lags).max_ms) == (1000.0, 1000.0, 10000.0)
    assert quantiles([]).p50_ms is None


def test_lateness_is_append_time_minus_event_time_and_an_event_time_in_the_future_counts_as_zero() -> None:
    assert lateness_s(100_500, 40.0) == 60.5
    assert lateness_s(100_000, 160.0) == 0.0


def test_events_from_a_month_ago_appended_just_before_publish_have_seconds_of_lag_and_a_month_of_lateness() -> None:
    published = datetime(2026, 12, 2, 9, tzinfo=UTC).timestamp()
    appended_ms = [round((published - 0.5) * 1000)] * 10
    occurred = published - 30 * 86400
    waiting = Unpublished()
    waiting.add(10, appended_ms, [lateness_s(ms, occurred) for ms in appended_ms])
    row = waiting.freshness(lags_s(published, waiting.append_ms)).as_row()
    assert row["records"] == 10 and row["lag_max_ms"] == 500.0
    assert row["lateness_p50_ms"] == row["lateness_max_ms"] == (30 * 86400 - 0.5) * 1000
    waiting.clear()
    assert (waiting.records, waiting.append_ms, waiting.lateness_s) == (0, [], [])


def test_a_file_whose_sink_status_measured_lag_from_event_time_gets_the_new_table_once(tmp_path: Path) -> None:
    path = tmp_path / "omni.duckdb"
    old = duckdb.connect(str(path), config=STORAGE)
    old.execute("create table sink_status (published_at timestamptz not null, records bigint not null, "
                "lag_p50_ms double, lag_p99_ms double, lag_max_ms double, snapshot_ms double, "
                "interval_s double not null, primary key (published_at))")
    old.execute("insert into sink_status values (now(), 5, 2.9e9, 2.9e9, 2.9e9, 1, 1)")
    old.close()
    projection = Projection(path, tmp_path / "analytics.duckdb")
    assert projection.dirty, "the recreated table reaches the analysts' snapshot at the next publish"
    assert projection.con.execute("select count(*) from sink_status").fetchall() == [(0,)]
    assert projection.publish_snapshot(_status(2)) is not None
    projection.close()
    again = Projection(path, tmp_path / "analytics.duckdb")
    assert not again.dirty and again.con.execute(sql("sink_status_outdated")).fetchall() == [(False,)]
    assert again.con.execute("select records, lateness_max_ms from sink_status").fetchall() == [(2, 60.0)]
    again.close()


def test_the_snapshot_interval_backs_off_to_five_times_the_last_copy_time() -> None:
    assert next_interval(1.0, 0.05) == 1.0
    assert next_interval(1.0, 0.6) == BACKOFF * 0.6 == 3.0
