"""Holds against the real broker: concurrent callers never get more units than there are."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from ops.processes import get_json, post_json
from streams.codec import encode
from streams.stock import StockLine, StockReceived
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, read_to_end, wait_for

pytestmark = pytest.mark.integration
SKU, NODE = "SKU-00010", "st-010"


def post(port: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return post_json(f"http://127.0.0.1:{port}{path}", body)


def worker_with_stock(pipeline: Pipeline, units: int) -> str:
    """A healthy worker whose stock table holds `units` of SKU at NODE; returns its web port."""
    worker = pipeline.worker().start()
    worker.wait_healthy()
    port = worker.env["OMNI_WEB_PORT"]
    receipt = StockReceived(
        event_id=f"rcv-holds-{units}", occurred_at=datetime.now(UTC), source_node=NODE, delivery_id="d-1",
        supplier_id="s-1", lines=[StockLine(sku=SKU, quantity=units)],
    )
    p = producer(pipeline.env["KAFKA_BOOTSTRAP"])
    p.send(f"{pipeline.prefix}inventory.adjustments", key=NODE.encode(), value=encode(receipt)).get(timeout=10)
    wait_for(lambda: get_json(f"http://127.0.0.1:{port}/stock/{SKU}/")[1],
             lambda b: bool(b) and b.get("total_atp") == units, 60, "the receipt in the stock table")
    return port


def test_sixty_concurrent_holds_on_ten_units_grant_exactly_ten_and_the_rest_say_why(pipeline: Pipeline) -> None:
    port = worker_with_stock(pipeline, 10)

    def place(n: int) -> tuple[int, dict[str, Any]]:
        body = {"hold_id": f"or-{n}:{SKU}@{NODE}", "order_id": f"or-{n}", "sku": SKU, "node": NODE,
                "quantity": 1, "ttl_s": 600}
        return post(port, "/holds/", body)

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(place, range(60)))
    granted = [body for status, body in results if status == 201]
    rejected = [body for status, body in results if status == 409]
    assert len(granted) == 10 and len(rejected) == 50, [s for s, _ in results]
    assert all("insufficient stock: 0 available" in (b["reason"] or "") for b in rejected)

    # Read-your-writes, and a hold resolves once: the second commit is answered with its final state.
    winner = granted[0]["hold_id"]
    first = post(port, "/holds/commit/", {"hold_id": winner, "sku": SKU, "cause": "pickup"})
    second = post(port, "/holds/commit/", {"hold_id": winner, "sku": SKU, "cause": "pickup"})
    assert first[1]["answer"] == second[1]["answer"] == "committed"
    stock = get_json(f"http://127.0.0.1:{port}/stock/{SKU}/")[1]
    assert stock["nodes"][NODE] == {"on_hand": 9, "damaged": 0, "held": 9, "safety": 0, "atp": 0, "in_transit": 0}
    released = post(port, "/holds/release/", {"hold_id": granted[1]["hold_id"], "sku": SKU, "reason": "cancelled"})
    assert released[1]["answer"] == "released" and released[1]["atp_after"] == 1

    # The compacted availability topic, read as a table, says the same.
    latest = wait_for(lambda: latest_availability(pipeline), lambda t: t.get(f"{SKU}@{NODE}", {}).get("atp") == 1,
                      30, "availability after the release")
    assert latest[f"{SKU}@{NODE}"]["held"] == 8 and latest[SKU]["atp"] == 1 and latest[SKU]["on_hand"] == 9


def latest_availability(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    records = read_to_end(pipeline.env["KAFKA_BOOTSTRAP"], f"{pipeline.prefix}inventory.availabilities")
    table: dict[str, dict[str, Any]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        table[record.key.decode()] = json.loads(record.value)
    return table


@pytest.mark.time_sensitive
def test_a_hold_expires_by_itself_when_its_time_to_live_ends(pipeline: Pipeline) -> None:
    port = worker_with_stock(pipeline, 3)
    status, answer = post(port, "/holds/", {"hold_id": "h-exp", "order_id": "or-exp", "sku": SKU, "node": NODE,
                                             "quantity": 3, "ttl_s": 2})
    assert status == 201 and answer["atp_after"] == 0
    time.sleep(2)
    hold = wait_for(lambda: get_json(f"http://127.0.0.1:{port}/holds/{SKU}/h-exp/")[1],
                    lambda h: bool(h) and h["status"] != "granted", 30, "the hold to expire")
    assert hold["status"] == "expired"
    assert get_json(f"http://127.0.0.1:{port}/stock/{SKU}/")[1]["total_atp"] == 3


def test_with_two_workers_either_one_answers_stock_and_holds_for_any_sku(pipeline: Pipeline) -> None:
    first = pipeline.worker("worker-a").start()
    first.wait_healthy()
    second = pipeline.worker("worker-b").start()
    second.wait_healthy()
    skus = [f"SKU-0{n:04d}" for n in range(8)]
    receipt = StockReceived(
        event_id="rcv-two-workers", occurred_at=datetime.now(UTC), source_node=NODE, delivery_id="d-2",
        supplier_id="s-1", lines=[StockLine(sku=sku, quantity=5) for sku in skus],
    )
    producer(pipeline.env["KAFKA_BOOTSTRAP"]).send(
        f"{pipeline.prefix}inventory.adjustments", key=NODE.encode(), value=encode(receipt)).get(timeout=10)
    ports = [first.env["OMNI_WEB_PORT"], second.env["OMNI_WEB_PORT"]]

    def totals() -> list[int]:
        return [(get_json(f"http://127.0.0.1:{p}/stock/{sku}/")[1] or {}).get("total_on_hand", -1)
                for p in ports for sku in skus]

    wait_for(totals, lambda t: t == [5] * 16, 120, "every SKU's stock from both workers")
    for n, sku in enumerate(skus):  # half of these POSTs reach a worker that must forward them
        status, answer = post(ports[n % 2], "/holds/", {"hold_id": f"h2-{n}", "order_id": f"or2-{n}", "sku": sku,
                                                        "node": NODE, "quantity": 2, "ttl_s": 600})
        assert status == 201 and answer["atp_after"] == 3, (sku, status, answer)
        assert get_json(f"http://127.0.0.1:{ports[(n + 1) % 2]}/holds/{sku}/h2-{n}/")[1]["status"] == "granted"
