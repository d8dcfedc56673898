"""Reconcile finds no drift once a simulated day is quiet, finds it in a damaged copy, and a
rebuild from the topics gives the same tables (refused while the sink runs).

The day is the one that just ended by the test's clock; `make test` runs this again with the
services 45 days later (OMNI_CLOCK_SHIFT=45d), when the day's points have matured by the timer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from analytics.rows import FACT_TABLES
from settings import Settings
from sim.config import SimConfig
from sim.publish import run
from tests.conftest import Pipeline
from tests.integration.checks import (
    just_ended,
    wait_until_fraud_settled,
    wait_until_projected,
    wait_until_sink_caught_up,
)
from tests.integration.kafka_io import query

pytestmark = [pytest.mark.integration, pytest.mark.time_sensitive]

DAY = SimConfig(events=2_500, seed=21, stores=6, warehouses=2, skus=80, customers=400)


def command(pipeline: Pipeline, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**pipeline.env, "PYTHONPATH": str(Path.cwd())}  # reconcile calls as the pipeline's OMNI_HTTP_CLIENT
    return subprocess.run([sys.executable, "-m", module, *args], env=env, capture_output=True, text=True,
                          timeout=300)


def counts(path: Path) -> dict[str, int]:
    return {table: query(path, f"select count(*) from {table}")[0][0] for table in (*FACT_TABLES, "dead_letters")}


def test_reconcile_reports_no_drift_when_quiet_and_drift_in_a_damaged_copy_and_rebuild_restores_counts(
    pipeline: Pipeline, tmp_path: Path,
) -> None:
    worker = pipeline.worker().start()
    sink = pipeline.sink().start()
    worker.wait_healthy()
    sink.wait_healthy()
    report = run(just_ended(DAY))
    snapshot = pipeline.analytics_path
    wait_until_projected(snapshot, report, stall_s=180)
    worker_url = f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}"
    wait_until_fraud_settled(worker_url)  # else alerts still come a join grace later
    wait_until_sink_caught_up(snapshot, Settings.from_env(), timeout_s=300)

    clean = command(pipeline, "analytics.reconcile", "--worker-url", worker_url, "--wallets", "0")
    print(clean.stdout)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "drift " not in clean.stdout.replace("no drift", "")
    assert "fct_sales_lines rows" in clean.stdout and "stock on hand" in clean.stdout
    assert "wallet balances (pending, available, held, tier)" in clean.stdout
    assert "wallet changes due, not yet posted" in clean.stdout
    shifted = Settings.from_env().clock_shift not in ("", "0")
    pending, available = query(snapshot, "select sum(pending), sum(available) from wallet_balances")[0]
    assert (pending == 0 and available > 0) if shifted else (pending > 0 and available == 0), (pending, available)

    damaged = tmp_path / "damaged.duckdb"
    shutil.copyfile(snapshot, damaged)
    con = duckdb.connect(str(damaged))
    con.execute("delete from fct_sales_lines where rowid in (select rowid from fct_sales_lines limit 5)")
    con.execute("delete from fct_stock_movements where movement_id in "
                "(select movement_id from fct_stock_movements order by movement_offset desc limit 3)")
    con.close()
    drift = command(pipeline, "analytics.reconcile", "--database", str(damaged), "--worker-url", worker_url)
    print(drift.stdout)
    assert drift.returncode == 1, drift.stdout + drift.stderr
    lines = {line.split()[0]: line.split() for line in drift.stdout.splitlines() if line and line[0] != " "}
    assert lines["fct_sales_lines"][-2:] == ["5", "drift"]
    assert lines["fct_stock_movements"][-2:] == ["3", "drift"]
    assert lines["stock"][-1] == "drift"

    refused = command(pipeline, "analytics.rebuild")
    assert refused.returncode == 3 and "refusing to rebuild" in refused.stderr, refused.stderr

    sink.stop()
    before = counts(pipeline.duckdb_path)
    rebuilt = command(pipeline, "analytics.rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    print(rebuilt.stderr[-1500:])
    assert counts(pipeline.duckdb_path) == before
    assert counts(snapshot) == before
    cli = subprocess.run([str(Path(sys.executable).with_name("duckdb")), "-readonly", "-csv", "-noheader",
                          str(snapshot), "-c", "select count(*) from fct_sales_lines"],
                         capture_output=True, text=True, timeout=30, check=True)
    assert int(cli.stdout.strip()) == before["fct_sales_lines"]

    sink.start()  # continues from the rebuilt file's offsets: nothing new, nothing twice
    sink.wait_healthy()
    again = command(pipeline, "analytics.reconcile", "--worker-url", worker_url)
    assert again.returncode == 0, again.stdout + again.stderr
