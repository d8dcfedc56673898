"""Analysts query the published snapshot with the duckdb CLI and Python while the sink writes."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ops.processes import Service, get_json
from sim.config import SimConfig
from sim.publish import generate
from streams.codec import encode
from tests.conftest import Pipeline
from tests.integration.checks import just_ended
from tests.integration.kafka_io import producer, query, scalar, wait_for

pytestmark = pytest.mark.integration

CLI = Path(sys.executable).with_name("duckdb")
STREAM = just_ended(SimConfig(events=20_000, seed=5, stores=10, warehouses=2, skus=200, customers=1_000))
COUNT = "select count(*) from fct_sales_lines"
HOLD = f"""
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("{COUNT}").fetchone()[0], flush=True)
time.sleep(14)
print(con.execute("{COUNT}").fetchone()[0])
"""


def metrics(pipeline: Pipeline) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{pipeline.env['OMNI_SINK_PORT']}/metrics", timeout=5) as r:
        return r.read().decode()


def commit_gaps(text: str) -> tuple[float, float]:
    """(commits, commits that came more than 1 s after the previous one) so far."""
    total = re.search(r"^omnistream_sink_commit_gap_seconds_count (\S+)$", text, re.M)
    within = re.search(r'^omnistream_sink_commit_gap_seconds_bucket\{le="1.0"\} (\S+)$', text, re.M)
    assert total and within, "the sink exposes its commit gaps"
    return float(total.group(1)), float(total.group(1)) - float(within.group(1))


def cli_count(snapshot: Path) -> tuple[float, int, float]:
    """(query time the CLI reports, count, wall time of the whole CLI process)."""
    started = time.monotonic()
    out = subprocess.run([str(CLI), "-readonly", "-csv", "-noheader", "-cmd", ".timer on", str(snapshot), "-c", COUNT],
                         capture_output=True, text=True, timeout=10, check=True).stdout
    wall = time.monotonic() - started
    timer = re.search(r"Run Time \(s\): real (\S+)", out)
    assert timer, out
    return float(timer.group(1)), int(out.splitlines()[0]), wall


def publish_now_stamped(pipeline: Pipeline, stop: threading.Event, rate: float = 300) -> int:
    """The simulated day's events with their event time set to now, at `rate` per second, until
    `stop`: so the lag from append time to queryable means wall-clock freshness."""
    p = producer(pipeline.env["KAFKA_BOOTSTRAP"])
    sent, started = 0, time.monotonic()
    for spec, key, event in generate(STREAM):
        if stop.is_set():
            break
        stamped = event.model_copy(update={"occurred_at": datetime.now(UTC)})
        p.send(spec.full_name(pipeline.prefix), key=key, value=encode(stamped))
        sent += 1
        ahead = sent / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
    p.flush()
    return sent


def python_count(snapshot: Path) -> tuple[float, int, float]:
    started = time.monotonic()
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        row = con.execute(COUNT).fetchone()
    finally:
        con.close()
    assert row is not None
    took = time.monotonic() - started
    return took, int(row[0]), took


def test_cli_and_python_readers_query_the_snapshot_in_under_a_second_while_the_sink_keeps_committing(
    pipeline: Pipeline,
) -> None:
    sink = pipeline.sink().start()
    sink.wait_healthy()
    stop = threading.Event()
    publisher = threading.Thread(target=publish_now_stamped, args=(pipeline, stop), daemon=True)
    publisher.start()
    try:
        check_readers_and_sink(pipeline, sink, publisher)
    finally:
        stop.set()
        publisher.join(timeout=30)


def check_readers_and_sink(pipeline: Pipeline, sink: Service, publisher: threading.Thread) -> None:
    snapshot = pipeline.analytics_path
    wait_for(lambda: scalar(snapshot, COUNT) or 0, lambda n: n > 500, 60, "the first sales lines in the snapshot")

    commits_before, slow_before = commit_gaps(metrics(pipeline))
    # An analyst who keeps the file open throughout, in a process of its own (in this process,
    # duckdb would hand every later connect to the same path that one open database).
    held = subprocess.Popen([sys.executable, "-c", HOLD, str(snapshot)], stdout=subprocess.PIPE, text=True)
    timings: list[tuple[str, float, int, float]] = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and publisher.is_alive():
        timings.append(("cli", *cli_count(snapshot)))
        timings.append(("python", *python_count(snapshot)))
        time.sleep(0.3)
    commits_after, slow_after = commit_gaps(metrics(pipeline))
    first, last = held.communicate(timeout=30)[0].split()
    assert first == last, "a reader with the file open keeps its consistent copy"
    assert publisher.is_alive(), "the stream must still flow for the pause check to mean anything"

    assert len(timings) >= 20
    slow = [t for t in timings if t[1] >= 1.0]
    assert not slow, f"queries took a second or more: {slow}"
    assert max(t[3] for t in timings) < 5, "a CLI process (python wrapper, open, query) took 5 s or more"
    for kind in ("cli", "python"):
        counts = [n for k, _, n, _ in timings if k == kind]
        assert counts == sorted(counts), f"{kind} counts went backwards: {counts}"
        assert counts[-1] > counts[0], f"{kind} counts did not grow: {counts}"
    assert commits_after - commits_before >= 10, "the sink kept committing while readers held the snapshot"
    assert slow_after == slow_before, (
        f"{slow_after - slow_before} commits came > 1 s after the previous one; sink log:\n{sink.tail(60)}"
    )

    text = metrics(pipeline)
    assert re.search(r"^omnistream_sink_snapshot_seconds_count [1-9]", text, re.M)
    assert re.search(r"^omnistream_projection_lag_seconds_count [1-9]", text, re.M)
    _, health = get_json(f"http://127.0.0.1:{pipeline.env['OMNI_SINK_PORT']}/health")
    assert health["snapshot_cli_readable"] is True
    assert health["snapshot_interval_s"] >= 1.0 and health["snapshot_seconds"] < 1.0
    status = query(snapshot, "select records, lag_p50_ms, lag_max_ms, snapshot_ms from sink_status")
    assert len(status) >= 5, "one sink_status row per published snapshot"
    assert all(r[1] is None or r[1] <= r[2] for r in status)
    copy_ms = [r[3] for r in status]
    assert health["last_snapshot_lag"]["lag_p99_ms"] < 10_000, "events stamped now are queryable within seconds"
    slowest = {kind: max(t[1] for t in timings if t[0] == kind) for kind in ("cli", "python")}
    print(f"\nqueries: {len(timings)}, slowest query {slowest}, slowest CLI process {max(t[3] for t in timings):.3f}s; "
          f"commits during readers: {commits_after - commits_before:.0f}; "
          f"snapshot copy ms: median {sorted(copy_ms)[len(copy_ms) // 2]}, max {max(copy_ms)}; "
          f"last snapshot lag: {health['last_snapshot_lag']}")
