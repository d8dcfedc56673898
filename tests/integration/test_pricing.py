"""One price everywhere: the web (a worker) and a till (the CLI, offline) price the same basket identically."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ops.processes import get_json, post_json
from settings import REPO_ROOT
from tests.conftest import Pipeline
from tests.integration.kafka_io import wait_for
from tests.integration.pricing_world import SKUS, book, publish_book

pytestmark = pytest.mark.integration
PRICED = ("lines", "applied", "subtotal_cents", "discount_cents", "total_cents", "bonus_points", "snapshot_version")


TILL = ("till-st-001", "till-st-001-token")  # the till of st-001: scope till, acts for st-001 only


def till(pipeline: Pipeline, folder: Path, *args: str, offline: bool = False) -> dict[str, Any]:
    env = {**pipeline.env, "OMNI_HTTP_CLIENT": TILL[0], "OMNI_HTTP_TOKEN": TILL[1]}
    if offline:
        env["KAFKA_BOOTSTRAP"] = "127.0.0.1:1"  # nothing listens there: the till cannot reach any broker
    done = subprocess.run([sys.executable, "-m", "till", args[0], "--dir", str(folder), *args[1:]], env=env,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_till_offline_and_the_web_price_the_same_basket_identically(pipeline: Pipeline, tmp_path: Path) -> None:
    worker = pipeline.worker(OMNI_CLIENT_TOKENS=f"{pipeline.env['OMNI_CLIENT_TOKENS']},{TILL[0]}:{TILL[1]}:till:st-001")
    worker.start()
    worker.wait_healthy()  # the worker creates the topics
    publish_book(pipeline.env["KAFKA_BOOTSTRAP"], pipeline.prefix, book(datetime.now(UTC)))
    url = f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}"
    wait_for(lambda: get_json(f"{url}/pricing/book/")[1], lambda b: bool(b) and b["promotions"] == 4, 120,
             "the worker's price book")
    anonymous = subprocess.run(  # a till without its client may sync the book but gets no lease
        [sys.executable, "-m", "till", "sync", "--dir", str(tmp_path / "anonymous"), "--worker", url, "--store",
         "st-001", "--lease", "SHOES10:money=2000"], env={**pipeline.env, "OMNI_HTTP_CLIENT": ""}, cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=120)
    assert anonymous.returncode != 0 and "answered 401" in anonymous.stderr, anonymous.stderr[-2000:]
    synced = till(pipeline, tmp_path, "sync", "--worker", url, "--store", "st-001", "--lease", "SHOES10:money=2000",
                  "--lease", "WELCOME:uses=5")
    assert synced["version"] == get_json(f"{url}/pricing/book/")[1]["version"]
    assert json.loads((tmp_path / "leases.json").read_text()), "the store took its leases"
    lines = [(SKUS[0], 2), (SKUS[6], 2), (SKUS[7], 1)]
    body = {"basket_id": "b-same", "channel": "store", "node": "st-001", "coupon_codes": ["WELCOME"],
            "lines": [{"line_no": n, "sku": s, "quantity": q} for n, (s, q) in enumerate(lines, start=1)]}
    status, web = post_json(f"{url}/baskets/price/", {**body, "hold": True}, pipeline.headers("web"))
    assert status == 201, web
    at_till = till(pipeline, tmp_path, "price", "--store", "st-001", "--basket-id", "b-same", "--coupon", "WELCOME",
                   "--lines", ",".join(f"{s}:{q}" for s, q in lines), offline=True)
    assert {k: at_till[k] for k in PRICED} == {k: web[k] for k in PRICED}
    applied = {a["promotion_id"] for a in web["applied"]}
    assert applied == {"SHOES10", "BAGS2FOR1", "WELCOME", "BONUS50"}, web["rejected"]
    assert web["discount_cents"] == sum(a["discount_cents"] for a in web["applied"]) > 0
    assert web["bonus_points"] == 50
    assert all(h["answer"] == "granted" for h in web["holds"]), web["holds"]
    assert {u["promotion_id"] for u in web["stamp"]["promotions"]} == applied
