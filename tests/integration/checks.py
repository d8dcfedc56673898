"""Assertions shared by the end-to-end tests: DuckDB and the stock table equal what was sent."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from analytics.batch import PK
from analytics.reconcile import topic_row_counts
from analytics.rows import FACT_TABLES
from analytics.sink import FACT_SOURCES
from bench import scrape
from ops.processes import Service, get_json
from settings import Settings
from sim.config import SimConfig, day_just_ended
from sim.publish import run
from sim.report import Report
from tests.integration.kafka_io import query, scalar, wait_for, wait_while_progressing


def just_ended(config: SimConfig) -> SimConfig:
    """`config` as the day that has just ended by the test's clock: a day of a fixed date would
    age with the calendar (its holds expire, its points mature, its tiers lapse, its causes are
    forgotten after 400 days), so a test of it would pass today and fail next year."""
    return dataclasses.replace(config, start=day_just_ended(datetime.now(UTC)))


def wait_until_projected(snapshot: Path, report: Report, stall_s: float = 120,
                         skip_skus: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Until the analysts' snapshot holds every sales line and movement of `report`; fails when
    the counts stop moving for `stall_s` (the worker's pace on a busy machine is not the test's
    subject: see bench.pipeline)."""
    lines = report.sales.lines + report.orders.lines
    wait_while_progressing(
        lambda: (
            scalar(snapshot, "select count(*) from fct_sales_lines"),
            scalar(snapshot, "select count(*) from fct_stock_movements where sku not in "
                             f"({', '.join(repr(sku) for sku in sorted(skip_skus)) or repr('')})"),
        ),
        lambda got: got == (lines, report.movements),
        stall_s,
        f"{lines} sales lines and {report.movements} movements",
    )


def assert_duckdb_equals_report(snapshot: Path, report: Report, skip_skus: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Row counts, units and money per channel equal the simulator's own totals, exactly
    (positions of `skip_skus`, stock a test moved beside the day, are not the report's)."""
    totals = "select count(*), sum(quantity), sum(net_cents) from fct_sales_lines where "
    store = query(snapshot, totals + "channel = 'store'")
    online = query(snapshot, totals + "channel <> 'store'")
    assert store[0] == (report.sales.lines, report.sales.quantity, report.sales.net_cents)
    assert online[0] == (report.orders.lines, report.orders.quantity, report.orders.net_cents)
    rows = query(snapshot, "select sku, node, on_hand, damaged from stock_on_hand")
    got = {(sku, node): (on_hand, damaged) for sku, node, on_hand, damaged in rows if sku not in skip_skus}
    want = {(sku, node): (on_hand, damaged) for sku, node, on_hand, damaged in report.positions}
    differ = {key: (got.get(key), want.get(key)) for key in got.keys() | want.keys() if got.get(key) != want.get(key)}
    assert not differ, f"{len(differ)} positions differ (duckdb, expected), e.g. {sorted(differ.items())[:5]}"
    skipped = ", ".join(f"'{sku}'" for sku in sorted(skip_skus)) or "''"
    movements = f"select count(*) from fct_stock_movements where sku not in ({skipped})"
    assert scalar(snapshot, movements) == report.movements


def assert_stock_table_equals_report(worker: Service, report: Report) -> None:
    """Every SKU's positions, read from the worker's HTTP view, equal the reference model."""
    port = worker.env["OMNI_WEB_PORT"]
    want: dict[str, dict[str, dict[str, int]]] = {}
    for sku, node, on_hand, damaged in report.positions:
        want.setdefault(sku, {})[node] = {"on_hand": on_hand, "damaged": damaged}
    wrong = {}
    for sku, nodes in want.items():
        url = f"http://127.0.0.1:{port}/stock/{sku}/"
        status, body = wait_for(lambda u=url: get_json(u, timeout=10), lambda r: r[0] != 503, 60, f"{sku} owner")
        got = {} if status != 200 else {
            node: {"on_hand": p["on_hand"], "damaged": p["damaged"]} for node, p in body["nodes"].items()
        }
        if got != nodes:
            wrong[sku] = (status, got, nodes)
    assert not wrong, f"{len(wrong)} SKUs differ, e.g. {list(wrong.items())[:2]}"


def fact_end_offsets(settings: Settings) -> dict[tuple[str, int], int]:
    """The current end offset of every partition of the sink's fact topics."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None, enable_auto_commit=False,
                             **settings.security.kafka_python_kwargs())
    try:
        tps = [TopicPartition(name, p) for name in (s.full_name(settings.topic_prefix) for s in FACT_SOURCES)
               for p in sorted(consumer.partitions_for_topic(name) or ())]
        return {(tp.topic, tp.partition): end for tp, end in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def wait_until_sink_caught_up(snapshot: Path, settings: Settings, timeout_s: float = 240) -> dict[tuple[str, int], int]:
    """Until the fact topics stopped growing and the snapshot's stored offsets reached their ends."""
    def probe() -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        ends = fact_end_offsets(settings)
        stored = {(t, p): o for t, p, o in query(snapshot, "select topic, partition, next_offset from sink_offsets")}
        return ends, {tp: stored.get(tp, 0) for tp in ends}

    previous: list[dict[tuple[str, int], int]] = []

    def quiet_and_read(value: tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]) -> bool:
        ends, stored = value
        stable = previous[-4:] == [ends] * 4  # unchanged for ~2 s (the worker has nothing left to emit)
        previous.append(ends)
        return bool(ends) and stable and stored == ends

    return wait_for(probe, quiet_and_read, timeout_s, "the topics to go quiet and the sink to reach their ends")[0]


def assert_facts_equal_topics(snapshot: Path, settings: Settings, through: dict[tuple[str, int], int]) -> None:
    """Every fact table holds exactly the distinct rows the topics imply: none missing, none twice."""
    implied = topic_row_counts(settings, through)
    got = {}
    for table in FACT_TABLES:
        keys = ", ".join(PK[table])
        count, distinct = query(snapshot, f"select count(*), count(distinct ({keys})) from {table}")[0]
        assert count == distinct, f"{table} has {count - distinct} duplicate keys"
        got[table] = count
    want = {table: implied.get(table, 0) for table in FACT_TABLES}
    assert got == want, f"duckdb {got} != topics {want}"


def fraud_waiting(worker_url: str) -> float:
    """Returns the worker's fraud rules hold back, waiting for their sale (they are judged after
    OMNI_FRAUD_JOIN_GRACE_SECONDS, then may alert); -1 when the worker does not answer."""
    samples = scrape.fetch(f"{worker_url}/metrics")
    return -1 if samples is None else scrape.total(samples, "omnistream_fraud_waiting_keys")


def wait_until_fraud_settled(worker_url: str, timeout_s: float = 180) -> None:
    """Until nothing has waited for its join for 5 s: later alerts then come only from new input.
    A stream that looks quiet can still raise alerts a join grace later (CI saw 4 alerts become 6)."""
    zeros: list[float] = []

    def settled(waiting: float) -> bool:
        zeros.append(waiting)
        return zeros[-10:] == [0] * 10  # ~5 s of 0.5-s polls

    wait_for(lambda: fraud_waiting(worker_url), settled, timeout_s,
             "the fraud rules' waiting returns and prices to be judged")


def applied_movements(worker: Service) -> float:
    """Stock movements the worker applied so far; -1 while it does not answer."""
    samples = scrape.fetch(f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}/metrics")
    return -1 if samples is None else scrape.total(samples, "omnistream_stock_movements_total", verdict="applied")


class DayInBackground:
    """A simulated day published on its own thread while the test crashes or rebalances the pipeline."""

    def __init__(self, config: SimConfig) -> None:
        self._reports: list[Report] = []
        self._thread = threading.Thread(target=lambda: self._reports.append(run(config)), daemon=True)
        self._thread.start()

    def publishing(self) -> bool:
        return self._thread.is_alive()

    def report(self, timeout_s: float = 300) -> Report:
        """What was sent, once the whole day is."""
        self._thread.join(timeout=timeout_s)
        assert self._reports, "the simulator did not finish publishing"
        return self._reports[0]
