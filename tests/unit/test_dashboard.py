"""The dashboard's queries on an in-memory DuckDB with the sink's schema, and its JSON shaping."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from aiohttp.test_utils import TestClient, TestServer

from analytics.sql_files import SCHEMA, sql
from bench import scrape
from dashboard import panels
from dashboard.server import STATIC_DIR, build
from dashboard.snapshot import Snapshot, SourceDownError, query_rows
from ops.processes import free_port
from settings import Settings
from streams.pricing import Budget
from tests.unit.fulfilment_factories import decided, project, shipment
from tests.unit.pricing_analytics_factories import promotion, used, variance

DAY = datetime(2026, 11, 27, 10, tzinfo=UTC)
BASIC = {"Authorization": "Basic " + base64.b64encode(b"dash-test:dash-token").decode()}


@pytest.fixture(autouse=True)
def dashboard_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard admits `dash-test` (scope backoffice), whom the tests' requests name (BASIC)."""
    monkeypatch.setenv("OMNI_CLIENT_TOKENS", "dash-test:dash-token:backoffice")


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    db = duckdb.connect(":memory:")
    db.execute("set TimeZone = 'UTC'")
    for name in SCHEMA:
        db.execute(sql(name))
    return db


def sale(db: duckdb.DuckDBPyConnection, event_id: str, channel: str, sku: str, quantity: int, net_cents: int,
         at: datetime) -> None:
    db.execute(
        "insert into fct_sales_lines values (?, 1, 'pos.sale', ?, ?, 'st-001', null, ?, ?, 100, 0, ?, false, ?, ?)",
        [event_id, channel, event_id, sku, quantity, net_cents, at, at],
    )


def entry(db: duckdb.DuckDBPyConnection, customer: str, debit: str, credit: str, points: int) -> None:
    db.execute(
        "insert into fct_loyalty_entries values (?, ?, ?, ?, ?, 'earn', 'c', 'c', ?, ?)",
        [f"{customer}-{debit}-{credit}-{points}", customer, debit, credit, points, DAY, DAY],
    )


def alert(db: duckdb.DuckDBPyConnection, alert_id: str, raised: datetime, severity: str = "high") -> None:
    db.execute(
        "insert into fct_fraud_alerts values "
        "(?, 'return_above_value', ?, 'customer', 'c-1', ?, ?, 'returns', '{}', ?, ?)",
        [alert_id, severity, raised, raised, raised, raised],
    )


def test_sales_today_sums_each_channel_on_the_latest_day_only(con: duckdb.DuckDBPyConnection) -> None:
    sale(con, "a", "store", "SKU-1", 2, 1_000, DAY)
    sale(con, "b", "store", "SKU-2", 1, 550, DAY + timedelta(hours=5))
    sale(con, "c", "web", "SKU-1", 3, 2_500, DAY)
    sale(con, "old", "app", "SKU-1", 9, 9_900, DAY - timedelta(days=1))
    body = panels.sales_today(query_rows(con, "dash_sales_today"))
    assert body["day"] == "2026-11-27" and body["timezone"] == "UTC"
    assert [(c["channel"], c["lines"], c["units"], c["net_sales"]) for c in body["channels"]] == [
        ("web", 1, 3, 25.0), ("store", 2, 3, 15.5)]
    assert body["total"] == {"lines": 3, "units": 6, "net_sales": 40.5}


def test_sales_today_is_empty_with_no_day_before_the_first_sale(con: duckdb.DuckDBPyConnection) -> None:
    assert panels.sales_today(query_rows(con, "dash_sales_today")) == {
        "day": None, "timezone": "UTC", "channels": [], "total": {"lines": 0, "units": 0, "net_sales": 0}}


def test_outstanding_points_count_a_merged_wallets_leftover_under_its_survivor(
    con: duckdb.DuckDBPyConnection,
) -> None:
    entry(con, "c-1", "program:earned", "pending", 100)
    entry(con, "c-1", "pending", "available", 60)
    entry(con, "c-1", "available", "held", 10)
    entry(con, "c-2", "program:earned", "available", 7)
    entry(con, "c-3", "program:earned", "available", 5)  # merged into c-2 below: one customer now
    con.execute("insert into fct_customer_merges values ('m1', 'c-3', ?, 'c-2', ?, 'h', ?, ?)",
                [DAY, DAY - timedelta(days=1), DAY, DAY])
    body = panels.points(query_rows(con, "dash_points"))
    assert body == {"wallets": 2, "pending": 40, "available": 62, "held": 10, "outstanding": 112}


def test_alerts_come_newest_first_at_most_twenty_with_counts(con: duckdb.DuckDBPyConnection) -> None:
    for i in range(25):
        alert(con, f"al-{i:02d}", DAY + timedelta(minutes=i), "high" if i % 5 == 0 else "low")
    body = panels.alerts(query_rows(con, "dash_alerts"), query_rows(con, "dash_alert_count"))
    assert [a["alert_id"] for a in body["alerts"]][:3] == ["al-24", "al-23", "al-22"]
    assert len(body["alerts"]) == 20 and body["total"] == 25 and body["high"] == 5
    assert body["alerts"][0]["raised_at"].startswith("2026-11-27T10:24")


def test_the_sku_picker_lists_the_latest_days_best_sellers_first_then_stocked_skus(
    con: duckdb.DuckDBPyConnection,
) -> None:
    sale(con, "a", "store", "SKU-2", 5, 1_000, DAY)
    sale(con, "b", "web", "SKU-1", 1, 1_000, DAY)
    sale(con, "old", "web", "SKU-1", 50, 1_000, DAY - timedelta(days=1))
    con.execute("insert into fct_stock_movements (movement_id, sku, node, kind, on_hand_delta, damaged_delta, "
                "on_hand_after, damaged_after, cause_event_id, cause_type, movement_offset, occurred_at, "
                "projected_at) values ('m', 'SKU-9', 'wh-01', 'receipt', 4, 0, 4, 0, 'e', 'x', 0, ?, ?)", [DAY, DAY])
    body = panels.skus(query_rows(con, "dash_skus"))
    assert body["skus"] == [{"sku": "SKU-2", "units_today": 5, "on_hand": 0},
                            {"sku": "SKU-1", "units_today": 1, "on_hand": 0},
                            {"sku": "SKU-9", "units_today": 0, "on_hand": 4}]


def sourcing(db: duckdb.DuckDBPyConnection) -> None:
    """Three decisions on AT's day (one split, one rejected) and one the day before."""
    project(db, [
        decided("or-0", 1, shipment("wh-01"), at=-24 * 60),
        decided("or-1", 1, shipment("wh-01")),
        decided("or-2", 1, shipment("st-002"), shipment("wh-01"), at=5, retries=2),
        decided("or-3", 1, outcome="rejected", reason="out of stock", at=10),
    ])


def test_the_fulfilment_panel_shows_the_latest_days_sourcing_and_the_latest_decisions(
    con: duckdb.DuckDBPyConnection,
) -> None:
    sourcing(con)
    body = panels.fulfilment(query_rows(con, "dash_fulfilment_summary"), query_rows(con, "dash_fulfilment_decisions"))
    assert body["day"] == "2026-11-26" and body["timezone"] == "UTC"
    assert body["summary"] == {
        "decisions": 3, "orders_sourced": 2, "pinned": 0, "split_orders": 1, "units": 6, "promise_known": 0,
        "resourcings": 0, "rejections": 1, "waits": 0, "split_rate": 0.5, "cost_per_order": 7.5,
        "km_per_order": 15.0, "warehouse_share": 0.6667, "same_day_share": 0.0, "promise_met_share": None,
    }
    assert [(d["order_id"], d["outcome"], d["nodes"], d["cost"], d["km"], d["retries"]) for d in body["decisions"]] == [
        ("or-3", "rejected", [], 0.0, 0.0, 0), ("or-2", "planned", ["st-002", "wh-01"], 10.0, 20.0, 2),
        ("or-1", "planned", ["wh-01"], 5.0, 10.0, 0), ("or-0", "planned", ["wh-01"], 5.0, 10.0, 0)]
    assert body["decisions"][0]["decided_at"] == "2026-11-26T10:10:00+00:00"


def test_the_fulfilment_panel_is_empty_before_the_first_decision(con: duckdb.DuckDBPyConnection) -> None:
    assert panels.fulfilment(query_rows(con, "dash_fulfilment_summary"),
                             query_rows(con, "dash_fulfilment_decisions")) == {
        "day": None, "timezone": "UTC", "summary": None, "decisions": []}


async def test_the_fulfilment_endpoint_answers_from_the_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = duckdb.connect(str(tmp_path / "analytics.duckdb"))
    for name in SCHEMA:
        writer.execute(sql(name))
    sourcing(writer)
    writer.close()
    monkeypatch.setenv("OMNI_DUCKDB_PATH", str(tmp_path / "omnistream.duckdb"))
    async with TestClient(TestServer(build(Settings.from_env())), headers=BASIC) as client:
        answer = await client.get("/api/fulfilment")
        body = await answer.json()
    assert answer.status == 200 and body["summary"]["orders_sourced"] == 2 and len(body["decisions"]) == 4
    assert body["decisions"][1]["nodes"] == ["st-002", "wh-01"] and "snapshot" in body


def promotions(db: duckdb.DuckDBPyConnection) -> None:
    """Two promotions used over three days (one with a budget 90 % burnt), and variances at two stores."""
    project(db, [
        promotion(budget=Budget(money_cents=1_000)), promotion("promo-2"),
        used(1, discount=300, at=-8), used(2, discount=300, at=-1), used(3, discount=300),
        used(4, "promo-2", discount=150, at=-1), used(5, "promo-2", discount=100, points=40),
        variance(1, till=7), variance(2, "st-002", "price_override", till=10, charged=400),
        variance(3, "st-002", "stale_snapshot", till=9, charged=1_050),
    ])


def test_the_pricing_panel_shows_a_weeks_promotion_cost_budget_burn_and_variances_by_cause_and_store(
    con: duckdb.DuckDBPyConnection,
) -> None:
    promotions(con)
    body = panels.pricing(query_rows(con, "dash_promotion_cost"), query_rows(con, "dash_budget_burn"),
                          query_rows(con, "dash_pricing_variances"))
    assert body["day"] == "2026-11-26" and body["timezone"] == "UTC"
    assert [(p["promotion_id"], p["discount_today"], p["discount_7d"], p["uses_7d"], p["bonus_points_7d"])
            for p in body["promotions"]] == [("promo-1", 3.0, 6.0, 2, 0), ("promo-2", 1.0, 2.5, 2, 40)]
    assert [(b["promotion_id"], b["scope_key"], b["period_key"], b["burnt"], b["accounts_exhausted"])
            for b in body["budgets"]] == [("promo-1", "chain", "all", 0.9, 0)]
    assert body["variances_by_cause"] == [{"cause": "price_override", "lines": 1, "variance": -6.0},
                                          {"cause": "stale_snapshot", "lines": 2, "variance": -0.5}]
    assert [(v["store"], v["cause"], v["variance"], v["max_versions_behind"]) for v in body["variances"]] == [
        ("st-002", "price_override", -6.0, 0), ("st-001", "stale_snapshot", -1.0, 3),
        ("st-002", "stale_snapshot", 0.5, 1)]


def test_the_pricing_panel_is_empty_before_the_first_promotion_use(con: duckdb.DuckDBPyConnection) -> None:
    assert panels.pricing(query_rows(con, "dash_promotion_cost"), query_rows(con, "dash_budget_burn"),
                          query_rows(con, "dash_pricing_variances")) == {
        "day": None, "timezone": "UTC", "promotions": [], "budgets": [], "variances_by_cause": [], "variances": []}


async def test_the_pricing_endpoint_answers_from_the_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = duckdb.connect(str(tmp_path / "analytics.duckdb"))
    for name in SCHEMA:
        writer.execute(sql(name))
    promotions(writer)
    writer.close()
    monkeypatch.setenv("OMNI_DUCKDB_PATH", str(tmp_path / "omnistream.duckdb"))
    async with TestClient(TestServer(build(Settings.from_env())), headers=BASIC) as client:
        answer = await client.get("/api/pricing")
        body = await answer.json()
    assert answer.status == 200 and body["promotions"][0]["promotion_id"] == "promo-1" and "snapshot" in body
    assert body["budgets"][0]["burnt"] == 0.9


def test_the_stock_panel_lists_every_node_by_atp_with_totals() -> None:
    worker = {"sku": "SKU-1", "applied_through_offset": 41, "nodes": {
        "st-001": {"on_hand": 5, "damaged": 0, "held": 2, "safety": 1, "atp": 2, "in_transit": 0},
        "wh-01": {"on_hand": 90, "damaged": 3, "held": 0, "safety": 0, "atp": 90, "in_transit": 12}}}
    body = panels.stock("SKU-1", worker)
    assert [(n["node"], n["on_hand"], n["held"], n["atp"]) for n in body["nodes"]] == [
        ("wh-01", 90, 0, 90), ("st-001", 5, 2, 2)]
    assert body["totals"]["atp"] == 92 and body["totals"]["in_transit"] == 12


METRICS = """# TYPE omnistream_sink_projection_lag_seconds histogram
omnistream_sink_projection_lag_seconds_bucket{le="0.1"} 10.0
omnistream_sink_projection_lag_seconds_bucket{le="0.5"} 60.0
omnistream_sink_projection_lag_seconds_bucket{le="1.0"} 99.0
omnistream_sink_projection_lag_seconds_bucket{le="+Inf"} 100.0
omnistream_projection_lag_seconds_bucket{le="1.0"} 40.0
omnistream_projection_lag_seconds_bucket{le="2.0"} 100.0
omnistream_projection_lag_seconds_bucket{le="+Inf"} 100.0
omnistream_event_lateness_seconds_bucket{le="604800.0"} 0.0
omnistream_event_lateness_seconds_bucket{le="2592000.0"} 100.0
omnistream_event_lateness_seconds_bucket{le="+Inf"} 100.0
omnistream_sink_lag_records{partition="0",topic="pos.transactions"} 3.0
omnistream_sink_lag_records{partition="1",topic="pos.transactions"} 4.0
"""


def test_projection_lag_quantiles_are_the_histograms_bucket_upper_bounds() -> None:
    assert panels.histogram_quantile(METRICS, "omnistream_sink_projection_lag_seconds", 0.5) == 0.5
    assert panels.histogram_quantile(METRICS, "omnistream_sink_projection_lag_seconds", 0.99) == 1.0
    assert panels.histogram_quantile("", "omnistream_sink_projection_lag_seconds", 0.5) is None


def test_lag_prefers_the_sink_status_table_and_is_stale_only_when_an_old_snapshot_has_records_waiting() -> None:
    health = {"status": "ok", "seconds_since_commit": 0.4}
    status = {"published_at": DAY, "records": 10, "lag_p50_ms": 120, "lag_p99_ms": 900, "lag_max_ms": 1500,
              "lateness_p50_ms": 2.6e9, "lateness_p99_ms": 2.6e9, "lateness_max_ms": 2.6e9}
    fresh = panels.lag(2.0, 30, health, METRICS, status, [])
    assert fresh["projection"]["source"] == "sink_status" and fresh["projection"]["p99_s"] == 0.9
    assert fresh["lateness"]["p50_s"] == 2.6e6, "a month late in business time, kept apart from the lag"
    assert fresh["sink_records_waiting"] == 7 and not fresh["stale"]
    assert panels.lag(60.0, 30, health, METRICS, None, [])["stale_reasons"] == ["the analytics snapshot is 60 s old"]
    assert not panels.lag(60.0, 30, health, "", None, [])["stale"]  # quiet: nothing new to publish
    down = panels.lag(60.0, 30, None, None, None, ["the DuckDB sink is not answering"])
    assert down["stale"] and not down["sink_up"] and down["projection"]["p50_s"] is None
    assert down["lateness"]["p50_s"] is None


def test_without_a_status_table_lag_is_the_append_to_queryable_histogram_and_lateness_its_own() -> None:
    body = panels.lag(2.0, 30, {"status": "ok"}, METRICS, None, [])
    assert (body["projection"]["exact"], body["projection"]["p50_s"], body["projection"]["p99_s"]) == (False, 2.0, 2.0)
    assert (body["lateness"]["p50_s"], body["lateness"]["p99_s"]) == (2592000.0, 2592000.0)


def test_the_snapshot_reader_reopens_a_replaced_file_and_says_when_there_is_none(tmp_path: Path) -> None:
    path = tmp_path / "analytics.duckdb"
    reader = Snapshot(path)
    with pytest.raises(SourceDownError, match="no analytics snapshot yet"):
        reader.connection()
    for wallets in (1, 2):  # as the sink publishes: a complete copy, then os.replace
        writer = duckdb.connect(str(tmp_path / "sink.duckdb"))
        for name in SCHEMA:
            writer.execute(sql(name))
        entry(writer, f"c-{wallets}", "program:earned", "available", 5)
        writer.close()
        shutil.copyfile(tmp_path / "sink.duckdb", tmp_path / "copy.tmp")
        os.replace(tmp_path / "copy.tmp", path)
        assert reader.rows("dash_points")[0]["wallets"] == wallets
    assert reader.has_table("fct_fraud_alerts") and not reader.has_table("no_such_table")
    reader.close()


def test_the_page_and_its_assets_reference_no_url_outside_the_dashboard() -> None:
    for asset in STATIC_DIR.iterdir():
        text = asset.read_text()
        assert not re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), asset.name
        assert "@import" not in text and "url(" not in text, asset.name


async def test_a_panel_whose_source_is_down_answers_503_with_a_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNI_DUCKDB_PATH", str(tmp_path / "omnistream.duckdb"))
    monkeypatch.setenv("OMNI_WEB_PORT", str(free_port()))
    monkeypatch.setenv("OMNI_SINK_PORT", str(free_port()))
    async with TestClient(TestServer(build(Settings.from_env())), headers=BASIC) as client:
        page = await client.get("/")
        assert page.status == 200 and "/static/dashboard.js" in await page.text()
        stock = await client.get("/api/stock?sku=SKU-00001")
        assert stock.status == 503 and "worker" in (await stock.json())["error"]
        sales = await client.get("/api/sales-today")
        assert sales.status == 503 and "no analytics snapshot yet" in (await sales.json())["error"]
        fulfilment = await client.get("/api/fulfilment")
        assert fulfilment.status == 503 and "no analytics snapshot yet" in (await fulfilment.json())["error"]
        pricing = await client.get("/api/pricing")
        assert pricing.status == 503 and "no analytics snapshot yet" in (await pricing.json())["error"]
        lag = await (await client.get("/api/lag")).json()
        assert lag["stale"] and any("sink" in reason for reason in lag["stale_reasons"])
        assert (await client.get("/api/stock")).status == 400


async def test_metrics_count_requests_by_route_and_status_and_panels_served_without_their_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNI_DUCKDB_PATH", str(tmp_path / "omnistream.duckdb"))
    monkeypatch.setenv("OMNI_WEB_PORT", str(free_port()))
    async with TestClient(TestServer(build(Settings.from_env())), headers=BASIC) as client:
        async def samples() -> scrape.Samples:
            return scrape.parse(await (await client.get("/metrics")).text())

        before = await samples()
        for _ in range(3):
            assert (await client.get("/api/stock?sku=SKU-00001")).status == 503  # no worker
        assert (await client.get("/api/stock")).status == 400
        assert (await client.get("/static/dashboard.js")).status == 200
        after = await samples()

    def grew(name: str, **labels: str) -> float:
        return scrape.total(after, name, **labels) - scrape.total(before, name, **labels)

    assert grew("omnistream_dashboard_requests_total", route="/api/stock", status="503") == 3
    assert grew("omnistream_dashboard_requests_total", route="/api/stock", status="400") == 1
    assert grew("omnistream_dashboard_source_down_total", route="/api/stock") == 3
    assert grew("omnistream_dashboard_request_seconds_count", route="/api/stock") == 4
    assert grew("omnistream_dashboard_requests_total", route="/static", status="200") == 1  # one label, any file


async def test_lag_reads_the_sinks_status_table_when_the_snapshot_has_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = duckdb.connect(str(tmp_path / "analytics.duckdb"))
    writer.execute(sql("sink_status"))
    month_ms = 30 * 86_400_000
    writer.execute("insert into sink_status by name select * from (values (?, 40, 80, 950, 2000, ?, ?, ?, 1), "
                   "(?, 10, 1, 1, 1, 1, 1, 1, 1)) as t(published_at, records, lag_p50_ms, lag_p99_ms, lag_max_ms, "
                   "lateness_p50_ms, lateness_p99_ms, lateness_max_ms, interval_s)",
                   [DAY, month_ms, month_ms, month_ms, DAY - timedelta(minutes=1)])
    writer.close()
    monkeypatch.setenv("OMNI_DUCKDB_PATH", str(tmp_path / "omnistream.duckdb"))
    monkeypatch.setenv("OMNI_SINK_PORT", str(free_port()))
    async with TestClient(TestServer(build(Settings.from_env())), headers=BASIC) as client:
        lag = await (await client.get("/api/lag")).json()
    assert lag["projection"] == {"source": "sink_status", "exact": True, "p50_s": 0.08, "p99_s": 0.95, "max_s": 2.0,
                                 "records": 40, "published_at": "2026-11-27T10:00:00+00:00"}
    assert lag["lateness"] == {"source": "sink_status", "exact": True, "p50_s": 2_592_000.0, "p99_s": 2_592_000.0,
                               "max_s": 2_592_000.0}
    assert lag["snapshot_age_s"] is not None and not lag["sink_up"]


async def test_a_snapshot_from_before_lateness_was_kept_apart_shows_no_status_lag_rather_than_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = duckdb.connect(str(tmp_path / "analytics.duckdb"))
    writer.execute("create table sink_status (published_at timestamptz, records bigint, lag_p50_ms double, "
                   "lag_p99_ms double, lag_max_ms double)")
    writer.execute("insert into sink_status values (?, 40, 2.9e9, 2.9e9, 2.9e9)", [DAY])  # lag from occurred_at
    writer.close()
    monkeypatch.setenv("OMNI_DUCKDB_PATH", str(tmp_path / "omnistream.duckdb"))
    monkeypatch.setenv("OMNI_SINK_PORT", str(free_port()))
    async with TestClient(TestServer(build(Settings.from_env())), headers=BASIC) as client:
        answer = await client.get("/api/lag")
        lag = await answer.json()
    assert answer.status == 200 and lag["projection"]["source"] is None and lag["lateness"]["source"] is None


async def test_with_no_broker_answering_api_cluster_and_health_say_waiting_for_the_cluster_for_the_banner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("OMNI_DUCKDB_PATH", str(tmp_path / "omnistream.duckdb"))
    monkeypatch.setenv("KAFKA_BOOTSTRAP", bootstrap)
    monkeypatch.setenv("OMNI_CLUSTER_WATCH_S", "0.2")
    async with TestClient(TestServer(build(Settings.from_env())), headers=BASIC) as client:
        assert 'id="cluster-banner"' in await (await client.get("/")).text()
        for _ in range(100):  # the first answer takes one bootstrap timeout (ops/cluster_watch.py)
            cluster = await (await client.get("/api/cluster")).json()
            if cluster["state"] != "checking":
                break
            await asyncio.sleep(0.1)
        health = await client.get("/health")
        samples = scrape.parse(await (await client.get("/metrics")).text())
        health_body = await health.json()
    assert (cluster["state"], cluster["reachable"], cluster["brokers"]) == ("waiting for the cluster", False, 0)
    assert cluster["summary"] == (f"waiting for the cluster: no broker answers at {bootstrap}; "
                                  "writes are held until it returns")
    assert health.status == 200 and health_body["kafka"]["state"] == "waiting for the cluster"
    assert scrape.total(samples, "omnistream_kafka_reachable") == 0
    script = (STATIC_DIR / "dashboard.js").read_text()
    assert "/api/cluster" in script and "cluster-banner" in script
