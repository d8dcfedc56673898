"""SIGKILL the worker and the sink mid-stream, restart them: nothing lost, nothing counted twice."""

from __future__ import annotations

import re
import threading
import urllib.request

import pytest

from ops.processes import Service
from sim.config import SimConfig
from sim.publish import run
from sim.report import Report
from tests.conftest import Pipeline
from tests.integration.checks import assert_duckdb_equals_report, assert_stock_table_equals_report, wait_until_projected
from tests.integration.kafka_io import wait_for

pytestmark = pytest.mark.integration

DAY = SimConfig(events=8_000, seed=11, stores=10, warehouses=2, skus=120, customers=1_000, rate=800)


def applied_movements(worker: Service) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return -1
    found = re.search(r'^omnistream_stock_movements_total\{verdict="applied"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0


def test_sigkill_of_worker_and_sink_mid_stream_loses_and_repeats_nothing(pipeline: Pipeline) -> None:
    worker = pipeline.worker().start()
    sink = pipeline.sink().start()
    worker.wait_healthy()
    sink.wait_healthy()
    reports: list[Report] = []
    publisher = threading.Thread(target=lambda: reports.append(run(DAY)), daemon=True)
    publisher.start()

    # First crash: both processes at once, while events are still arriving; same disks.
    wait_for(lambda: applied_movements(worker), lambda n: n > 1_500, 120, "the worker to be mid-stream")
    worker.kill9()
    sink.kill9()
    worker.start()
    sink.start()
    worker.wait_healthy(120)
    sink.wait_healthy()

    # Second crash: the worker loses its disk too, and must rebuild its tables from the changelog.
    wait_for(lambda: applied_movements(worker), lambda n: n > 1_000, 120, "the restarted worker to be busy")
    worker.kill9()
    fresh = pipeline.worker("worker-empty-disk", OMNI_WEB_PORT=worker.env["OMNI_WEB_PORT"]).start()
    fresh.wait_healthy(120)

    publisher.join(timeout=180)
    assert reports, "the simulator did not finish publishing"
    report = reports[0]
    wait_until_projected(pipeline.analytics_path, report, timeout_s=240)
    assert_duckdb_equals_report(pipeline.analytics_path, report)
    assert_stock_table_equals_report(fresh, report)
