"""The analyst snapshot: readable by the duckdb CLI, carries its freshness, backs off as it grows."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from analytics.freshness import BACKOFF, lag_stats, lags_s, next_interval
from analytics.store import Projection, cli_readable, storage_version

CLI = Path(sys.executable).with_name("duckdb")


def _status(records: int) -> dict:
    return {"published_at": datetime.now(UTC), "records": records, "lag_p50_ms": 10.0, "lag_p99_ms": 20.0,
            "lag_max_ms": 30.0, "snapshot_ms": 1.5, "interval_s": 1.0}


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
         "select records, lag_p99_ms from sink_status; select next_offset from sink_offsets"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    assert "3,20.0" in out and "7" in out


def test_a_file_in_python_duckdbs_default_storage_version_is_flagged_as_unreadable_by_the_cli(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new-format.duckdb"
    duckdb.connect(str(path)).close()
    assert not cli_readable(path)
    assert storage_version(path) != storage_version(tmp_path / "missing.duckdb")
    assert cli_readable(tmp_path / "missing.duckdb"), "a file the sink will create is fine"
    assert not Projection(path, tmp_path / "analytics.duckdb").cli_readable


def test_lag_percentiles_are_nearest_rank_in_milliseconds_and_future_event_times_count_as_zero() -> None:
    lags = lags_s(100.0, [99.0] * 98 + [90.0, 200.0])
    stats = lag_stats(100, lags)
    assert (stats.records, stats.p50_ms, stats.p99_ms, stats.max_ms) == (100, 1000.0, 1000.0, 10000.0)
    assert lag_stats(5, []).p50_ms is None


def test_the_snapshot_interval_backs_off_to_five_times_the_last_copy_time() -> None:
    assert next_interval(1.0, 0.05) == 1.0
    assert next_interval(1.0, 0.6) == BACKOFF * 0.6 == 3.0
