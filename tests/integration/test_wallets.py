"""Wallets against the real broker: concurrent redemption holds from several stores never take
more than is available; balances equal the sum of the ledger; only known clients may change."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from ops.processes import get_json, post_json
from streams.codec import encode
from streams.loyalty import EarnPoints
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, read_to_end, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.time_sensitive]
CUSTOMER = "cus-" + "7" * 40
TOKENS = {f"till-{n}": f"secret-{n}" for n in range(4)}


def post(port: str, path: str, body: dict[str, Any], client: str | None) -> tuple[int, dict[str, Any]]:
    auth = {"X-Client": client, "Authorization": f"Bearer {TOKENS.get(client, 'wrong')}"} if client else {}
    return post_json(f"http://127.0.0.1:{port}{path}", body, auth)


def test_concurrent_redemptions_from_four_stores_never_take_more_than_the_wallet_holds(pipeline: Pipeline) -> None:
    worker = pipeline.worker(OMNI_LOYALTY_TOKENS=",".join(f"{c}:{t}" for c, t in TOKENS.items())).start()
    worker.wait_healthy()
    port = worker.env["OMNI_WEB_PORT"]
    kafka = producer(pipeline.env["KAFKA_BOOTSTRAP"])
    for n in range(3):  # three purchases earn 100 points each, available at once (no return window)
        earn = EarnPoints(event_id=f"earn-{n}", occurred_at=datetime.now(UTC), source_node="st-001",
                          customer_id=CUSTOMER, lot_id=f"sale-{n}:1", points=100, return_window_s=0)
        for _ in range(2):  # delivered twice: credited once
            kafka.send(f"{pipeline.prefix}loyalty.commands", key=CUSTOMER.encode(), value=encode(earn)).get(timeout=10)
    wallet = wait_for(lambda: get_json(f"http://127.0.0.1:{port}/wallets/{CUSTOMER}/")[1] or {},
                      lambda w: w.get("available") == 300, 60, "300 points available")

    assert post(port, f"/wallets/{CUSTOMER}/holds/", {"request_id": "r-x", "points": 1}, None)[0] == 401
    assert post(port, f"/wallets/{CUSTOMER}/holds/", {"request_id": "r-y", "points": 1}, "till-9")[0] == 401

    def redeem(n: int) -> tuple[int, dict[str, Any]]:
        return post(port, f"/wallets/{CUSTOMER}/holds/", {"request_id": f"r-{n}", "points": 40, "ttl_s": 600},
                    f"till-{n % 4}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(redeem, range(24)))  # 24 x 40 = 960 points asked of 300
    granted = [body for status, body in results if status == 201]
    declined = [body for status, body in results if status == 409]
    assert len(granted) == 7 and len(declined) == 17, Counter(status for status, _ in results)
    assert all(b["reason"].startswith("insufficient points: 20 available") for b in declined)

    # Capture four, void three, each by the till that placed it (another till is refused: 403);
    # a second capture answers the final state.
    def placed_by(body: dict[str, Any]) -> str:
        return f"till-{int(body['request_id'].removeprefix('r-')) % 4}"

    def other_than(client: str) -> str:
        return f"till-{(int(client.removeprefix('till-')) + 1) % 4}"

    first = granted[0]
    assert post(port, f"/wallets/{CUSTOMER}/holds/{first['request_id']}/capture/", {},
                other_than(placed_by(first)))[0] == 403
    for body in granted[:4]:
        path = f"/wallets/{CUSTOMER}/holds/{body['request_id']}/capture/"
        assert post(port, path, {}, placed_by(body))[1]["status"] == "captured"
    assert post(port, f"/wallets/{CUSTOMER}/holds/{first['request_id']}/capture/", {}, placed_by(first))[1][
        "status"] == "captured"
    for body in granted[4:]:
        assert post(port, f"/wallets/{CUSTOMER}/holds/{body['request_id']}/void/", {"reason": "abandoned"},
                    placed_by(body))[1]["status"] == "voided"
    wallet = get_json(f"http://127.0.0.1:{port}/wallets/{CUSTOMER}/")[1]
    assert (wallet["available"], wallet["held"], wallet["pending"]) == (300 - 160, 0, 0)

    # The ledger topic: balances after the last posting equal the sums of every entry.
    posted = [json.loads(r.value) for r in read_to_end(pipeline.env["KAFKA_BOOTSTRAP"],
                                                       f"{pipeline.prefix}loyalty.ledger-entries")]
    entries = {e["entry_id"]: e for p in posted for e in p["entries"]}  # a re-sent posting has the same ids
    total: Counter[str] = Counter()
    for e in entries.values():
        total[e["debit"]] -= e["points"]
        total[e["credit"]] += e["points"]
    assert (total["available"], total["held"], total["pending"]) == (140, 0, 0)
    assert total["program:redeemed"] == 160 and -total["program:issued"] == 300
    assert posted[-1]["available"] == 140


def test_a_hold_the_caller_gave_up_on_does_not_keep_the_points(pipeline: Pipeline) -> None:
    """A 504 (no answer in time) voids the hold behind it: a late grant never strands points."""
    worker = pipeline.worker(OMNI_LOYALTY_TOKENS="till-0:secret-0", OMNI_WALLET_ANSWER_TIMEOUT_S="0.001").start()
    worker.wait_healthy()
    port = worker.env["OMNI_WEB_PORT"]
    earn = EarnPoints(event_id="earn-late", occurred_at=datetime.now(UTC), source_node="st-001",
                      customer_id=CUSTOMER, lot_id="sale-late:1", points=100, return_window_s=0)
    producer(pipeline.env["KAFKA_BOOTSTRAP"]).send(
        f"{pipeline.prefix}loyalty.commands", key=CUSTOMER.encode(), value=encode(earn)).get(timeout=10)
    wait_for(lambda: get_json(f"http://127.0.0.1:{port}/wallets/{CUSTOMER}/")[1] or {},
             lambda w: w.get("available") == 100, 60, "100 points available")
    status, body = post(port, f"/wallets/{CUSTOMER}/holds/", {"request_id": "r-slow", "points": 60}, "till-0")
    assert status == 504 and "voided" in body["error"], body
    wallet = wait_for(lambda: get_json(f"http://127.0.0.1:{port}/wallets/{CUSTOMER}/")[1] or {},
                      lambda w: "r-slow" in w.get("holds", {}) and w["holds"]["r-slow"]["status"] != "granted",
                      30, "the given-up hold resolved")
    assert wallet["holds"]["r-slow"]["status"] == "voided" and (wallet["available"], wallet["held"]) == (100, 0)
