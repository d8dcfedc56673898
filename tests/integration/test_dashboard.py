"""The dashboard in headless Chromium shows what the worker and DuckDB hold, served with no internet.

Worker, sink and dashboard run as processes against the real broker; a small simulated day
goes through them; then Debian's `chromium` renders the page (its JavaScript polls /api/) and
the rendered DOM must agree with the worker's /stock answer and with queries on the snapshot. The
browser opens the page as a backoffice client (HTTP Basic auth); without one it is asked (401).
A screenshot is kept in $OMNI_TEST_ARTIFACTS (default test-artifacts/) for people to look at.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import struct
import subprocess
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ops.processes import Service, get_json
from settings import REPO_ROOT
from sim.config import SimConfig
from sim.publish import run
from tests.conftest import Pipeline
from tests.integration.checks import just_ended, wait_until_projected
from tests.integration.kafka_io import query, wait_for

pytestmark = pytest.mark.integration

DAY = just_ended(SimConfig(events=2_000, seed=11, stores=6, warehouses=1, skus=40, customers=300))
SALES_TODAY = (  # independent of the dashboard's SQL: straight from the fact table, UTC days
    "with lines as (select channel, quantity, net_cents, cast(occurred_at at time zone 'UTC' as date) as day "
    "from fct_sales_lines) select channel, count(*), sum(quantity), round(sum(net_cents) / 100, 2) from lines "
    "where day = (select max(day) from lines) group by channel order by channel"
)
POINTS = "select sum(pending), sum(available), sum(held), sum(outstanding) from wallet_balances"
ALERTS = "select count(*) from fct_fraud_alerts"
TOP_SKU = "select sku from fct_sales_lines group by sku order by sum(quantity) desc, sku limit 1"


def chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    assert found, "Debian's chromium is needed for the dashboard test: apt-get install -y chromium (.ci/run does)"
    return found


def artifacts_dir() -> Path:
    path = Path(os.environ.get("OMNI_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_the_dashboard_renders_live_stock_sales_points_alerts_and_lag_offline_in_headless_chromium(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    browser = chromium()
    worker = pipeline.worker().start()
    sink = pipeline.sink().start()
    dashboard = pipeline.dashboard(worker).start()
    for service in (worker, sink, dashboard):
        service.wait_healthy()

    report = run(DAY)
    wait_until_projected(pipeline.analytics_path, report)
    wait_until_settled(pipeline)
    origin = f"http://127.0.0.1:{dashboard.env['OMNI_DASHBOARD_PORT']}"
    viewer = pipeline.headers("backoffice")
    client, token = viewer["X-Client"], viewer["Authorization"].removeprefix("Bearer ")
    assert_asks_for_credentials(origin, pipeline.headers("web"))
    assert_serves_nothing_from_another_origin(origin, basic(client, token))

    sku = query(pipeline.analytics_path, TOP_SKU)[0][0]
    page = f"http://{client}:{token}@127.0.0.1:{dashboard.env['OMNI_DASHBOARD_PORT']}/?sku={sku}"  # Basic auth
    # Fraud alerts can still trickle in: a return waits out its join grace (30 s)
    # after the stream went quiet. Count them on both sides of the render.
    alerts_before = query(pipeline.analytics_path, ALERTS)[0][0]
    dom = Dom.of(render(browser, tmp_path, "--dump-dom", page))
    alerts_after = query(pipeline.analytics_path, ALERTS)[0][0]

    stock = stock_of(worker, sku)
    assert dom.find("table", "data-sku")["data-sku"] == sku, dom.state_text
    shown = {row["data-node"]: (int(row["data-on-hand"]), int(row["data-held"]), int(row["data-atp"]))
             for row in dom.all("tr", "data-node")}
    assert shown == stock and len(shown) >= 2, (shown, stock)

    sales = {row["data-channel"]: (int(row["data-lines"]), int(row["data-units"]), cents(row["data-net-sales"]))
             for row in dom.all("tr", "data-channel")}
    expected = {channel: (lines, units, cents(net)) for channel, lines, units, net in
                query(pipeline.analytics_path, SALES_TODAY)}
    assert sales == expected and {"store", "web"} <= set(sales), (sales, expected)

    pending, available, held, outstanding = query(pipeline.analytics_path, POINTS)[0]
    assert int(dom.find("div", "data-outstanding")["data-outstanding"]) == int(outstanding or 0)
    assert dom.find("dl", "data-pending") == {"class": "points", "data-pending": str(pending or 0),
                                              "data-available": str(available or 0), "data-held": str(held or 0)}

    if alerts_after:
        shown_alerts = len(dom.all("tr", "data-alert-id"))
        assert min(20, alerts_before) <= shown_alerts <= min(20, alerts_after), (alerts_before, shown_alerts)
    else:
        assert "No fraud alerts" in dom.text_of("alerts-empty")

    exact = "sink_status" in dom.text_of("lag-source")  # exact quantiles; the histogram gives bounds
    duration = r"\d+(\.\d+)? (s|min|h|days)"
    assert re.fullmatch(("" if exact else "≤ ") + duration, dom.text_of("lag-p50")), dom.text_of("lag-p50")
    assert re.fullmatch(duration, dom.text_of("lag-snapshot-age")), dom.text_of("lag-snapshot-age")
    # The simulated day may be dated weeks back (sim.config.DEFAULT_START); lag runs from append time.
    shown_lag = {attrs["id"]: attrs["data-seconds"] for _, attrs in dom.elements
                 if attrs.get("id") in ("lag-p50", "lag-p99")}
    assert float(shown_lag["lag-p99"]) <= 300, shown_lag
    assert "business time, not pipeline lag" in dom.text_of("lateness"), dom.text_of("lateness")
    assert "Source down" not in dom.state_text, dom.state_text
    assert not [url for url in dom.urls if not url.startswith(("/", origin))], dom.urls

    screenshot = artifacts_dir() / "dashboard.png"
    screenshot.unlink(missing_ok=True)
    render(browser, tmp_path, f"--screenshot={screenshot}", page, "--window-size=1280,1000")
    assert png_size(screenshot) == (1280, 1000)
    assert screenshot.stat().st_size > 30_000, "a screenshot this small is a blank page"


def cents(amount: object) -> int:
    return round(float(str(amount)) * 100)


def wait_until_settled(pipeline: Pipeline) -> None:
    """Until the snapshot stops changing: loyalty entries and fraud alerts follow sales through the worker."""
    seen: list[object] = []

    def state() -> list[object]:
        time.sleep(2.5)  # longer than the test pipeline's snapshot interval
        seen.append([query(pipeline.analytics_path, sql) for sql in (SALES_TODAY, POINTS, ALERTS)])
        return seen[-2:]

    wait_for(state, lambda last: len(last) == 2 and last[0] == last[1], 120, "the snapshot to settle")


def stock_of(worker: Service, sku: str) -> dict[str, tuple[int, int, int]]:
    status, body = get_json(f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}/stock/{sku}/", timeout=10)
    assert status == 200, (status, body)
    return {node: (p["on_hand"], p["held"], p["atp"]) for node, p in body["nodes"].items()}


def render(browser: str, tmp_path: Path, output: str, url: str, *extra: str) -> str:
    """Headless Chromium loads the page and lets its polling run for a few seconds of virtual time."""
    argv = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            f"--user-data-dir={tmp_path / 'chromium'}", "--virtual-time-budget=6000", *extra, output, url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def basic(client: str, token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client}:{token}".encode()).decode()}


def assert_asks_for_credentials(origin: str, outside_scope: dict[str, str]) -> None:
    """Without a token a browser is asked for one (401, Basic); a web client is refused (403); /health is open."""
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(origin + "/api/points", timeout=5)
    assert refused.value.code == 401 and refused.value.headers["WWW-Authenticate"].startswith("Basic ")
    with pytest.raises(urllib.error.HTTPError) as outside:
        urllib.request.urlopen(urllib.request.Request(origin + "/", headers=outside_scope), timeout=5)
    assert outside.value.code == 403
    assert get_json(origin + "/health", headers={})[0] == 200


def assert_serves_nothing_from_another_origin(origin: str, auth: dict[str, str]) -> None:
    for path in ("/", "/static/dashboard.js", "/static/dashboard.css"):
        with urllib.request.urlopen(urllib.request.Request(origin + path, headers=auth), timeout=5) as response:
            text = response.read().decode()
        foreign = [u for u in re.findall(r"https?://[^\s\"'`)<>]+", text) if not u.startswith(origin)]
        assert not foreign, (path, foreign)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Dom(HTMLParser):
    """The rendered DOM as elements with their attributes, the text of elements with an id, every URL,
    and the text of the panels' status lines (`.state`: source down, stale)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[str, str] = {}
        self.urls: list[str] = []
        self._open: list[tuple[str | None, bool]] = []
        self.state_text = ""

    @classmethod
    def of(cls, html: str) -> Dom:
        dom = cls()
        dom.feed(html)
        return dom

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.elements.append((tag, found))
        self.urls += [found[k] for k in ("src", "href") if found.get(k)]
        if tag not in VOID:
            self._open.append((found.get("id"), "state" in found.get("class", "").split()))

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag not in VOID:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for element_id, is_state in self._open:
            if element_id:
                self.texts[element_id] = self.texts.get(element_id, "") + data
            if is_state:
                self.state_text += data

    def all(self, tag: str, attribute: str) -> list[dict[str, str]]:
        return [attrs for t, attrs in self.elements if t == tag and attribute in attrs]

    def find(self, tag: str, attribute: str) -> dict[str, str]:
        found = self.all(tag, attribute)
        assert len(found) == 1, (tag, attribute, found)
        return found[0]

    def text_of(self, element_id: str) -> str:
        return " ".join(self.texts.get(element_id, "").split())
