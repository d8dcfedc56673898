"""`python -m demo`: broker, worker, sink, dashboard, a simulated retail day, then answers from DuckDB."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from kafka import KafkaProducer

from analytics.fraud_eval import alerts_from_duckdb, score, table
from analytics.sql_files import sql
from broker import ensure_broker
from demo import clients, fulfilment, pricing, services
from ops.clock import Clock
from ops.processes import get_json, post_json
from settings import REPO_ROOT, Settings
from sim.config import SimConfig, day_just_ended
from sim.fraud import DEFAULT_LABELS, FraudCase, write_labels
from sim.producer import producer_config
from sim.publish import run
from sim.report import Report
from streams import admin
from streams.codec import encode
from streams.customers import CustomerIdentifierLinked
from streams.pos import CustomerRef, PosSale, SaleLine, Tender


def main() -> int:
    args = _parse()
    if args.stop:
        services.stop_all()
        return 0
    if args.status:
        services.status()
        return 0
    print("1/5 Kafka broker")
    broker = ensure_broker()
    os.environ["KAFKA_BOOTSTRAP"] = broker.bootstrap
    settings = Settings.from_env()
    print(f"  bootstrap {broker.bootstrap} ({'started' if broker.started_here else 'reused'})")
    print("2/5 topics and the fulfilment network")
    created = admin.ensure_topics(settings)
    print(f"  {len(created)} created, the rest already there")
    published = fulfilment.publish_network(settings, args.seed)
    print(f"  {published} network versions (nodes, cost tables, profiles) on fulfilment.network-versions")
    print("3/5 worker, DuckDB sink and dashboard")
    known = services.ensure_running(settings)
    os.environ.update(known.env(clients.WEB))  # this process calls the worker as the demo's web checkout
    print(f"4/5 simulating a retail day: {args.events} events, seed {args.seed}")
    start = day_just_ended(Clock.from_settings(settings.clock_shift, settings.clock_file).now())
    report = run(SimConfig(events=args.events, seed=args.seed, start=start), settings=settings, progress=True)
    write_labels([FraudCase.from_dict(case) for case in report.fraud_cases], DEFAULT_LABELS)  # for fraud_eval
    print(f"  sent {report.events} events: {report.sales.events} till sales, {report.orders.events} online orders, "
          f"{report.movements} stock movements")
    print("5/5 waiting for the pipeline to catch up")
    _wait_caught_up(settings)
    _answers(settings, report, start, known)
    return 0


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42, help="the same seed re-sends the same events (deduplicated)")
    parser.add_argument("--stop", action="store_true", help="stop the demo's dashboard, worker and sink")
    parser.add_argument("--status", action="store_true")
    return parser.parse_args()


def _metric_sum(url: str, pattern: str) -> float:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return sum(float(v) for v in re.findall(pattern, text, re.M))


def _wait_caught_up(settings: Settings, timeout_s: float = 300) -> None:
    """Until the worker and the sink have read everything and a fresh snapshot is published."""
    worker = f"http://127.0.0.1:{settings.web_port}/metrics"
    sink = f"http://127.0.0.1:{settings.sink_port}/metrics"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(2)
        worker_lag = _metric_sum(worker, r"^omnistream_consumer_lag\{[^}]*\} (\S+)$")
        sink_lag = _metric_sum(sink, r"^omnistream_sink_lag_records\{[^}]*\} (\S+)$")
        print(f"  lag: worker {worker_lag:.0f} records, sink {sink_lag:.0f} records", flush=True)
        if worker_lag == 0 and sink_lag == 0:
            time.sleep(settings.snapshot_interval_s + 6)  # one more sink lag check and snapshot
            if _metric_sum(sink, r"^omnistream_sink_lag_records\{[^}]*\} (\S+)$") == 0:
                return
    print("  the pipeline did not catch up in time: see .run/logs/worker.log and .run/logs/sink.log", file=sys.stderr)


def _wait_for_fraud_judgements(settings: Settings, timeout_s: float = 90) -> None:
    """Returns and till prices wait OMNI_FRAUD_JOIN_GRACE_SECONDS for their sale or price: until none
    waits, then one more snapshot for their alerts."""
    url = f"http://127.0.0.1:{settings.web_port}/metrics"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if _metric_sum(url, r"^omnistream_fraud_waiting_keys\{[^}]*\} (\S+)$") == 0:
                break
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(1)
    time.sleep(3 + settings.snapshot_interval_s)  # the alerts through the sink into the snapshot


def _fraud_answer(snapshot: Path, report: Report, start: datetime) -> None:
    """The day's fraud alerts from DuckDB, scored against the cases the simulator injected."""
    alerts = [a for a in alerts_from_duckdb(snapshot)
              if start <= a["window_end"] < start + timedelta(days=1)]  # this day's, not earlier demo days'
    scores = score(alerts, [FraudCase.from_dict(case) for case in report.fraud_cases])
    print(f"\nFraud alerts today: {len(alerts)} (the simulator injected {len(report.fraud_cases)} labelled cases); "
          "per rule, against those labels (docs/fraud.md):")
    print("\n".join("  " + line for line in table(scores).splitlines()))


def _answers(settings: Settings, report: Report, start: datetime, known: clients.DemoClients) -> None:
    snapshot = settings.analytics_path
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        _table("Sales by channel", con.execute(sql("demo_sales_by_channel")))
        _table("Top SKUs", con.execute(sql("demo_top_skus")))
        _table("Stock positions", con.execute(sql("demo_stock_summary")))
        _table("Online orders by latest status (the order saga's answers)", con.execute(sql("demo_orders_by_status")))
        _table("Loyalty by tier (one customer across channels, after merges; outstanding = liability)",
               con.execute(sql("demo_loyalty_by_tier")))
        sample = con.execute(
            "select order_id from order_outcomes where status in ('shipped', 'picked_up') order by order_id limit 1"
        ).fetchone()
        top_sku = con.execute(sql("demo_top_skus")).fetchone()
        dead = con.execute("select count(*) from dead_letters").fetchone()
    finally:
        con.close()
    if top_sku:
        _stock_answer(settings, top_sku[0])
        _hold_answer(settings, top_sku[0])
    if sample:
        _order_answer(settings, sample[0])
    if top_sku:
        fulfilment.sourced_order(settings, int(report.config["seed"]), top_sku[0], 2_500)
    fulfilment.backtest_table(int(report.config["seed"]))
    if top_sku:
        pricing.till_story(settings, clients.TILL_STORE, top_sku[0], known.env(clients.TILL))
    _loyalty_story(settings)
    _wait_for_fraud_judgements(settings)
    _fraud_answer(snapshot, report, start)
    print(f"\nDead letters so far: {dead[0] if dead else 0}")
    print(f"""
DuckDB (analyst snapshot, refreshed every {settings.snapshot_interval_s:g}s): {snapshot}
  the sink's own file (single writer): {settings.duckdb_path}
Worker:  http://127.0.0.1:{settings.web_port}/health  /metrics  /stock/<SKU>/  /orders/<order id>/
  every route but /health and /metrics needs a client: curl -H @{_headers_of(clients.WEB)} ...
  (the demo's clients: {_rel(clients.CLIENTS_FILE)}; add your own with python -m ops.tokens add)
Sink:    http://127.0.0.1:{settings.sink_port}/health  /metrics
Dashboard, worker and sink keep running; stop everything with: make stop

Open the dashboard (live stock and ATP, sales today, loyalty points, fraud alerts, lag; works offline):
  http://127.0.0.1:{settings.dashboard_port}/
  user: {clients.DASHBOARD}
  password: {known.tokens[clients.DASHBOARD]}
  (kept in {_rel(clients.TOKENS_FILE)}, readable by you only)
Query DuckDB as an analyst (paste it; read-only, the sink keeps writing its own file):
  {_duckdb_cli()} -readonly {shlex.quote(str(snapshot))} -c "select * from sales_by_channel_node_day limit 10\"""")


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _headers_of(client: str) -> str:
    """The curl headers file of one of the demo's clients (curl -H @FILE)."""
    return _rel(clients.DIR / f"{client}.headers")


def _duckdb_cli() -> str:
    """The duckdb CLI beside this Python (the venv's), as a path a person can paste."""
    cli = Path(sys.executable).with_name("duckdb")
    if not cli.exists():
        return "duckdb"
    return str(cli.relative_to(REPO_ROOT)) if cli.is_relative_to(REPO_ROOT) else str(cli)


def _hold_answer(settings: Settings, sku: str) -> None:
    """A web checkout holds 2 units at the store with the most of them, and reads it back."""
    _, body = get_json(f"http://127.0.0.1:{settings.web_port}/stock/{sku}/")
    stores = {n: p for n, p in (body or {}).get("nodes", {}).items() if n.startswith("st-")}
    if not stores:
        return
    node = max(stores, key=lambda n: stores[n]["atp"])
    order = f"or-demo-{int(time.time())}"
    request = {"hold_id": f"{order}:{sku}@{node}", "order_id": order, "sku": sku, "node": node,
               "quantity": 2, "ttl_s": 900}
    answer = post_json(f"http://127.0.0.1:{settings.web_port}/holds/", request)[1] or {}
    print(f"\nA web checkout holds 2 x {sku} for pick-up at {node} (POST /holds/):")
    print(f"  answer: {answer.get('answer')}, ATP left there: {answer.get('atp_after')}"
          f"{'  reason: ' + answer['reason'] if answer.get('reason') else ''}")
    print(f"  read it back: curl -H @{_headers_of(clients.WEB)} "
          f"http://127.0.0.1:{settings.web_port}/holds/{sku}/{request['hold_id']}/")


def _order_answer(settings: Settings, order_id: str) -> None:
    """One online order as the order saga keeps it: one hold per SKU, all or nothing."""
    status, body = get_json(f"http://127.0.0.1:{settings.web_port}/orders/{order_id}/")
    if status != 200 or not body:
        return
    history = " -> ".join(entry["status"] for entry in body["history"])
    lines = ", ".join(f"{ln['quantity']} x {ln['sku']} ({ln['hold']})" for ln in body["lines"])
    print(f"\nOnline order {order_id} ({body['delivery']} at {body['fulfilment_node']}): {history}")
    print(f"  lines: {lines}")
    print(f"  read it: curl -H @{_headers_of(clients.WEB)} http://127.0.0.1:{settings.web_port}/orders/{order_id}/")


def _loyalty_story(settings: Settings) -> None:
    """A customer earns with a loyalty card in a store and redeems online by email."""
    card = CustomerRef(kind="loyalty_card", value="LC-DEMO-0001")
    email = CustomerRef(kind="email", value="ann.demo@example.com")
    lines = [SaleLine(line_no=1, sku="SKU-00001", quantity=2, unit_price_cents=1_999),
             SaleLine(line_no=2, sku="SKU-00002", quantity=1, unit_price_cents=500)]
    now = Clock.from_settings(settings.clock_shift, settings.clock_file).now()
    kafka = KafkaProducer(**producer_config(settings))  # acks=all, idempotent
    try:
        sale = PosSale(event_id="demo-loyalty-rcpt-1", occurred_at=now, source_node="st-001",
                       receipt_id="demo-loyalty-rcpt-1", terminal_id="t-1", cashier_id="c-1", customer=card,
                       lines=lines, tenders=[Tender(method="card", amount_cents=4_498)])
        link = CustomerIdentifierLinked(event_id="demo-loyalty-link-1", occurred_at=now, source_node="web",
                                        known_as=card, identifier=email, channel="web")
        kafka.send(settings.topic_prefix + "pos.transactions", key=b"st-001", value=encode(sale)).get(timeout=10)
        kafka.send(settings.topic_prefix + "customers.identifiers", key=b"demo", value=encode(link)).get(timeout=10)
    finally:
        kafka.close()
    base = f"http://127.0.0.1:{settings.web_port}"
    print("\nLoyalty: Ann pays 44.98 at st-001 with loyalty card LC-DEMO-0001, then adds the card to her")
    print("web account (ann.demo@example.com); the web checkout redeems 30 points:")
    deadline = time.monotonic() + 60
    resolved: dict[str, Any] = {}
    while time.monotonic() < deadline and not resolved.get("customer_id"):
        time.sleep(1)
        resolved = post_json(f"{base}/customers/resolve/", {"kind": "email", "value": email.value})[1]
    customer = resolved.get("customer_id")
    if not customer:
        print(f"  the email did not resolve in time: {resolved}", file=sys.stderr)
        return
    wallet: dict[str, Any] = {}
    while time.monotonic() < deadline and not wallet.get("available"):
        wallet = get_json(f"{base}/wallets/{customer}/")[1] or {}
        time.sleep(0.5)
    print(f"  the email resolves to {customer}, the card's customer; wallet: {wallet.get('available')} available")
    redeem = {"request_id": "demo-web-redeem-1", "points": 30}
    status, hold = post_json(f"{base}/wallets/{customer}/holds/", redeem)
    print(f"  hold 30 points (POST /wallets/{customer[:12]}.../holds/): {status} {hold.get('status')}"
          f"{', ' + hold['reason'] if hold.get('reason') else ''}")
    done = post_json(f"{base}/wallets/{customer}/holds/demo-web-redeem-1/capture/", {})[1]
    wallet = get_json(f"{base}/wallets/{customer}/")[1] or {}
    print(f"  capture: {done.get('status')}; wallet now {wallet.get('available')} available, {wallet.get('held')} held")
    print(f"  read it: curl -H @{_headers_of(clients.WEB)} {base}/wallets/{customer}/")


def _table(title: str, result: duckdb.DuckDBPyConnection) -> None:
    columns = [d[0] for d in result.description or []]
    rows = result.fetchall()
    print(f"\n{title}")
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(columns)]
    print("  " + "  ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))


def _stock_answer(settings: Settings, sku: str) -> None:
    status, body = get_json(f"http://127.0.0.1:{settings.web_port}/stock/{sku}/")
    if status != 200:
        print(f"\nstock of {sku}: the worker answered {status}")
        return
    nodes = sorted(body["nodes"].items(), key=lambda kv: -kv[1]["on_hand"])[:5]
    print(f"\nStock of {sku} from the stock table (worker HTTP): {body['total_on_hand']} units on hand in total")
    for node, position in nodes:
        print(f"  {node:<8} on hand {position['on_hand']:>5}  damaged {position['damaged']:>3}")


if __name__ == "__main__":
    sys.exit(main())
