"""A wallet's whole life with the clock moved forward: a customer who never comes back still gets
their points matured, a hold expired, their lot expired and their tier lapsed, each as a ledger
entry at the time it happens, and DuckDB, the HTTP answer and the reconcile command agree with
the reference model after every step.

The worker's business clock is the test's (`OMNI_CLOCK_SHIFT`, which the date-shift run sets to
45 days) plus a clock file the test rewrites (`OMNI_CLOCK_FILE`): time moves without a restart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ops.clock import Clock, parse_shift, set_clock_file
from ops.processes import Service, get_json, post_json
from settings import Settings
from streams.codec import encode
from streams.loyalty import EarnPoints
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, query, read_to_end, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.time_sensitive]
CUSTOMER = "cus-" + "5" * 40
TOKENS = "life-till:s3cret"
AUTH = {"X-Client": "life-till", "Authorization": "Bearer s3cret"}
WINDOW, LIFETIME, YEAR = timedelta(days=30), timedelta(days=90), timedelta(days=365)
SILVER_CENTS = 50_000


@dataclass(frozen=True)
class Lot:
    earned_at: datetime
    points: int


@dataclass
class Reference:
    """What the programme's rules say the wallet holds at any moment (independent of domain/)."""

    lots: list[Lot]
    spend: list[tuple[datetime, int]]
    held: int = 0

    def at(self, now: datetime) -> tuple[int, int, int, str]:
        pending = sum(lot.points for lot in self.lots if now < lot.earned_at + WINDOW)
        available = sum(lot.points for lot in self.lots if lot.earned_at + WINDOW <= now < lot.earned_at + LIFETIME)
        window_start = now.date() - timedelta(days=YEAR.days - 1)
        spent = sum(cents for day, cents in self.spend if day.date() >= window_start)
        return pending, available - self.held, self.held, "silver" if spent >= SILVER_CENTS else "base"


def http_wallet(worker: Service) -> dict:  # type: ignore[type-arg]
    status, body = get_json(f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}/wallets/{CUSTOMER}/")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def duckdb_wallet(pipeline: Pipeline) -> tuple[int, int, int, str] | None:
    rows = query(pipeline.analytics_path, "select b.pending, b.available, b.held, t.tier from wallet_balances b "
                                          f"join customer_tiers t using (customer_id) where customer_id = '{CUSTOMER}'")
    return tuple(rows[0]) if rows else None  # type: ignore[return-value]


def reconcile(pipeline: Pipeline, worker: Service) -> subprocess.CompletedProcess[str]:
    env = {**pipeline.env, "PYTHONPATH": str(Path.cwd())}  # reconcile calls as the pipeline's OMNI_HTTP_CLIENT
    return subprocess.run([sys.executable, "-m", "analytics.reconcile", "--wallets", "0", "--worker-url",
                           f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}"],
                          env=env, capture_output=True, text=True, timeout=300)


def causes(pipeline: Pipeline) -> list[tuple[str, int]]:
    posted = [json.loads(r.value) for r in read_to_end(pipeline.env["KAFKA_BOOTSTRAP"],
                                                       f"{pipeline.prefix}loyalty.ledger-entries")]
    entries = {e["entry_id"]: (e["cause"], e["points"]) for p in posted for e in p["entries"]}
    return list(entries.values())


def test_a_customer_who_never_returns_gets_maturity_hold_expiry_lot_expiry_and_tier_lapse_on_time(
    pipeline: Pipeline, tmp_path: Path,
) -> None:
    clock_file = tmp_path / "clock"
    set_clock_file(str(clock_file), timedelta(0))
    worker = pipeline.worker(OMNI_LOYALTY_TOKENS=TOKENS, OMNI_CLOCK_FILE=str(clock_file),
                             OMNI_POINTS_LIFETIME_DAYS=str(LIFETIME.days), OMNI_WALLET_TIMER_S="0.5").start()
    sink = pipeline.sink().start()
    worker.wait_healthy()
    sink.wait_healthy()
    clock = Clock(parse_shift(Settings.from_env().clock_shift), str(clock_file))  # the worker's clock
    t0 = clock.now()
    earn = EarnPoints(event_id="life-earn-1", occurred_at=t0, source_node="st-001", customer_id=CUSTOMER,
                      lot_id="st-001/r-life:1", sku="SKU-001", net_cents=60_000,
                      return_window_s=int(WINDOW.total_seconds()), lifetime_s=int(LIFETIME.total_seconds()))
    producer(pipeline.env["KAFKA_BOOTSTRAP"]).send(f"{pipeline.prefix}loyalty.commands", key=CUSTOMER.encode(),
                                                   value=encode(earn)).get(timeout=10)
    model = Reference(lots=[Lot(t0, 600)], spend=[(t0, 60_000)])

    def step(offset: timedelta, expect_causes: list[tuple[str, int]]) -> None:
        set_clock_file(str(clock_file), offset)
        want = model.at(clock.now())  # the business time the worker sees, real seconds included
        body = wait_for(lambda: http_wallet(worker), lambda w: w["due"] is None and (
            w["pending"], w["available"], w["held"], w["tier"]) == want, 60, f"the wallet at +{offset}: {want}")
        assert (body["ledger"]["pending"], body["ledger"]["available"], body["ledger"]["held"],
                body["ledger"]["tier"]) == want  # posted, not only shown
        wait_for(lambda: causes(pipeline), lambda got: got == expect_causes, 30, f"ledger entries {expect_causes}")
        wait_for(lambda: duckdb_wallet(pipeline), lambda got: got == want, 60, f"DuckDB at +{offset}: {want}")
        checked = reconcile(pipeline, worker)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "wallet changes due" in checked.stdout

    step(timedelta(0), [("earn", 600)])
    step(WINDOW + timedelta(minutes=1), [("earn", 600), ("mature", 600)])

    port = worker.env["OMNI_WEB_PORT"]
    status, answer = post_json(f"http://127.0.0.1:{port}/wallets/{CUSTOMER}/holds/",
                               {"request_id": "life-r1", "points": 100, "ttl_s": 600}, AUTH)
    assert status == 201, answer
    model.held = 100
    step(WINDOW + timedelta(minutes=1), [("earn", 600), ("mature", 600), ("hold", 100)])
    model.held = 0  # nobody captures it: its time to live ends
    step(WINDOW + timedelta(minutes=12), [("earn", 600), ("mature", 600), ("hold", 100), ("expire_hold", 100)])
    step(LIFETIME + timedelta(minutes=1),
         [("earn", 600), ("mature", 600), ("hold", 100), ("expire_hold", 100), ("expire_lot", 600)])
    step(YEAR + timedelta(days=1),
         [("earn", 600), ("mature", 600), ("hold", 100), ("expire_hold", 100), ("expire_lot", 600)])

    tiers = [json.loads(r.value) for r in read_to_end(pipeline.env["KAFKA_BOOTSTRAP"],
                                                      f"{pipeline.prefix}loyalty.tier-changes")]
    assert [(t["previous"], t["tier"]) for t in tiers] == [("base", "silver"), ("silver", "base")]
    lapsed_at = datetime.fromisoformat(tiers[-1]["as_of"])
    assert t0 + YEAR - timedelta(days=1) <= lapsed_at <= t0 + YEAR + timedelta(days=1, minutes=1)
    assert query(pipeline.analytics_path, "select tier, customers from tier_distribution") == [("base", 1)]
