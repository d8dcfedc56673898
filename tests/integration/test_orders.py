"""Online orders against the real broker: all or nothing across SKUs, then ship, pick up or no-show."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ops.processes import get_json
from streams.codec import encode
from streams.orders import CancelledLine, OrderCancelled, OrderPickedUp, OrderPlaced, OrderShipped, ShippingAddress
from streams.pos import SaleLine
from streams.stock import StockLine, StockReceived
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, read_to_end, wait_for

pytestmark = pytest.mark.integration
NODE = "st-020"
STOCK = {"SKU-0A1": 5, "SKU-0B2": 1, "SKU-0C3": 3, "SKU-0D4": 2}


def _lines(*wanted: tuple[str, int]) -> list[SaleLine]:
    return [SaleLine(line_no=n, sku=sku, quantity=q, unit_price_cents=1000) for n, (sku, q) in enumerate(wanted, 1)]


def _order(order_id: str, *wanted: tuple[str, int], pickup: bool = False) -> OrderPlaced:
    return OrderPlaced(
        event_id=f"ev-{order_id}", occurred_at=datetime.now(UTC), source_node="web", order_id=order_id,
        channel="web", delivery="pick_up_in_store" if pickup else "ship_to_address", fulfilment_node=NODE,
        ship_to=None if pickup else ShippingAddress(postcode="1011AB", country="NL"), lines=_lines(*wanted),
    )


def _statuses(pipeline: Pipeline) -> dict[str, list[dict[str, Any]]]:
    import json

    found: dict[str, list[dict[str, Any]]] = {}
    for record in read_to_end(pipeline.env["KAFKA_BOOTSTRAP"], f"{pipeline.prefix}orders.status"):
        status = json.loads(record.value)
        found.setdefault(status["order_id"], [])
        if status["status"] not in [s["status"] for s in found[status["order_id"]]]:
            found[status["order_id"]].append(status)
    return found


def test_orders_are_all_or_nothing_and_each_gets_one_clear_answer(pipeline: Pipeline) -> None:
    worker = pipeline.worker(OMNI_PICKUP_WINDOW_S="6").start()
    worker.wait_healthy()
    port = worker.env["OMNI_WEB_PORT"]
    kafka = producer(pipeline.env["KAFKA_BOOTSTRAP"])

    def send(topic: str, key: str, event: Any) -> None:
        kafka.send(f"{pipeline.prefix}{topic}", key=key.encode(), value=encode(event)).get(timeout=10)

    def stock(sku: str) -> dict[str, int]:
        body = get_json(f"http://127.0.0.1:{port}/stock/{sku}/")[1] or {}  # a 503 (moving) has no nodes
        return body.get("nodes", {}).get(NODE, {})

    send("inventory.adjustments", NODE, StockReceived(
        event_id="rcv-orders", occurred_at=datetime.now(UTC), source_node=NODE, delivery_id="d-1",
        supplier_id="s-1", lines=[StockLine(sku=sku, quantity=q) for sku, q in STOCK.items()],
    ))
    wait_for(lambda: [stock(sku).get("atp") for sku in STOCK], lambda atp: atp == list(STOCK.values()),
             60, "the receipt in the stock table")

    # One short line rejects the whole order, and its other lines are released.
    send("web.orders", "or-short", _order("or-short", ("SKU-0A1", 2), ("SKU-0B2", 2), ("SKU-0C3", 1)))
    # The same SKU on two lines is checked as their sum; a partial cancellation, then shipment.
    send("web.orders", "or-ship", _order("or-ship", ("SKU-0A1", 1), ("SKU-0C3", 2), ("SKU-0A1", 1)))
    # A pick-up order nobody collects within the (six-second) pick-up window.
    send("web.orders", "or-noshow", _order("or-noshow", ("SKU-0D4", 2), pickup=True))

    answers = wait_for(lambda: _statuses(pipeline), lambda s: {"or-short", "or-ship", "or-noshow"} <= set(s),
                       60, "an answer for every order")
    assert [s["status"] for s in answers["or-short"]] == ["rejected"]
    assert answers["or-short"][0]["reason"].startswith("SKU-0B2: insufficient stock: 1 available to promise, 2")
    assert answers["or-ship"][0]["status"] == "accepted"
    assert answers["or-noshow"][0]["status"] == "accepted"
    wait_for(lambda: (stock("SKU-0A1"), stock("SKU-0C3")),
             lambda s: s[0]["held"] == 2 and s[1]["held"] == 2, 30, "only or-ship's holds left on A and C")
    assert stock("SKU-0B2") == {"on_hand": 1, "damaged": 0, "held": 0, "safety": 0, "atp": 1, "in_transit": 0}

    send("web.orders", "or-ship", OrderCancelled(
        event_id="ev-or-ship-cancel", occurred_at=datetime.now(UTC), source_node="web", order_id="or-ship",
        fulfilment_node=NODE, reason="customer request", lines=[CancelledLine(sku="SKU-0C3", quantity=1)],
    ))
    wait_for(lambda: stock("SKU-0C3"), lambda s: s["held"] == 1, 30, "the cancelled unit released")
    send("web.orders", "or-ship", OrderShipped(
        event_id="ev-or-ship-shipped", occurred_at=datetime.now(UTC), source_node=NODE, order_id="or-ship",
        fulfilment_node=NODE, carrier="postnl",
    ))
    wait_for(lambda: (stock("SKU-0A1"), stock("SKU-0C3")),
             lambda s: s == ({"on_hand": 3, "damaged": 0, "held": 0, "safety": 0, "atp": 3, "in_transit": 0},
                             {"on_hand": 2, "damaged": 0, "held": 0, "safety": 0, "atp": 2, "in_transit": 0}),
             30, "shipment committed: A 5-2, C 3-1")

    # The pick-up window passes: the expiry timer releases the hold and the order is a no-show.
    final = wait_for(lambda: _statuses(pipeline), lambda s: len(s["or-noshow"]) == 2, 60, "the no-show")
    assert [s["status"] for s in final["or-noshow"]] == ["accepted", "no_show"]
    assert [s["status"] for s in final["or-ship"]] == ["accepted", "shipped"]
    assert stock("SKU-0D4") == {"on_hand": 2, "damaged": 0, "held": 0, "safety": 0, "atp": 2, "in_transit": 0}

    # Collected late after all: the goods left, so on hand follows, once, although the hold ended.
    picked = OrderPickedUp(event_id="ev-or-noshow-picked", occurred_at=datetime.now(UTC), source_node=NODE,
                           order_id="or-noshow", fulfilment_node=NODE)
    send("web.orders", "or-noshow", picked)
    send("web.orders", "or-noshow", picked)
    wait_for(lambda: stock("SKU-0D4"), lambda s: s["on_hand"] == 0, 30, "the late pick-up taken out")

    order = get_json(f"http://127.0.0.1:{port}/orders/or-ship/")[1]
    assert order["status"] == "shipped" and order["waiting_for_answers"] == 0
    assert {ln["sku"]: (ln["quantity"], ln["hold"]) for ln in order["lines"]} == {
        "SKU-0A1": (2, "committed"), "SKU-0C3": (1, "committed"),
    }
    assert stock("SKU-0D4")["on_hand"] == 0  # the pick-up delivered twice took the units once
