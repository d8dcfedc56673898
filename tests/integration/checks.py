"""Assertions shared by the end-to-end tests: DuckDB and the stock table equal what was sent."""

from __future__ import annotations

from pathlib import Path

from ops.processes import Service, get_json
from sim.report import Report
from tests.integration.kafka_io import query, scalar, wait_for


def wait_until_projected(snapshot: Path, report: Report, timeout_s: float = 180) -> None:
    lines = report.sales.lines + report.orders.lines
    wait_for(
        lambda: (
            scalar(snapshot, "select count(*) from fct_sales_lines"),
            scalar(snapshot, "select count(*) from fct_stock_movements"),
        ),
        lambda got: got == (lines, report.movements),
        timeout_s,
        f"{lines} sales lines and {report.movements} movements",
    )


def assert_duckdb_equals_report(snapshot: Path, report: Report) -> None:
    """Row counts, units and money per channel equal the simulator's own totals, exactly."""
    totals = "select count(*), sum(quantity), sum(net_cents) from fct_sales_lines where "
    store = query(snapshot, totals + "channel = 'store'")
    online = query(snapshot, totals + "channel <> 'store'")
    assert store[0] == (report.sales.lines, report.sales.quantity, report.sales.net_cents)
    assert online[0] == (report.orders.lines, report.orders.quantity, report.orders.net_cents)
    rows = query(snapshot, "select sku, node, on_hand, damaged from stock_on_hand")
    got = {(sku, node): (on_hand, damaged) for sku, node, on_hand, damaged in rows}
    want = {(sku, node): (on_hand, damaged) for sku, node, on_hand, damaged in report.positions}
    differ = {key: (got.get(key), want.get(key)) for key in got.keys() | want.keys() if got.get(key) != want.get(key)}
    assert not differ, f"{len(differ)} positions differ (duckdb, expected), e.g. {sorted(differ.items())[:5]}"
    assert scalar(snapshot, "select count(*) from fct_stock_movements") == report.movements


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
