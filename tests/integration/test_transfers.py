"""Transfers against the real broker: in transit with an ETA, promisable for a date, received short."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ops.processes import get_json
from streams.codec import encode
from streams.stock import ReceivedLine, StockLine, StockReceived, TransferReceived, TransferShipped
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, read_to_end, wait_for

pytestmark = pytest.mark.integration
SKU, WAREHOUSE, STORE = "SKU-0T1", "wh-01", "st-030"


def test_a_transfer_is_in_transit_with_its_eta_then_received_short_with_the_variance(pipeline: Pipeline) -> None:
    worker = pipeline.worker().start()
    worker.wait_healthy()
    port = worker.env["OMNI_WEB_PORT"]
    kafka = producer(pipeline.env["KAFKA_BOOTSTRAP"])
    now = datetime.now(UTC).replace(microsecond=0)
    eta = now + timedelta(days=2)

    def send(topic: str, key: str, event: object) -> None:
        kafka.send(f"{pipeline.prefix}{topic}", key=key.encode(), value=encode(event)).get(timeout=10)

    def stock(query: str = "") -> dict:
        return get_json(f"http://127.0.0.1:{port}/stock/{SKU}/{query}")[1] or {}

    send("inventory.adjustments", WAREHOUSE, StockReceived(
        event_id="rcv-t", occurred_at=now, source_node=WAREHOUSE, delivery_id="d-1", supplier_id="s-1",
        lines=[StockLine(sku=SKU, quantity=10)],
    ))
    send("inventory.transfers", "tr-1", TransferShipped(
        event_id="ship-t", occurred_at=now, source_node=WAREHOUSE, transfer_id="tr-1", from_node=WAREHOUSE,
        to_node=STORE, eta=eta, lines=[StockLine(sku=SKU, quantity=6)],
    ))
    body = wait_for(stock, lambda b: bool(b) and b.get("total_in_transit") == 6, 60, "the transfer in transit")
    assert body["nodes"][WAREHOUSE]["on_hand"] == 4
    store = body["nodes"][STORE]
    assert (store["on_hand"], store["atp"], store["in_transit"]) == (0, 0, 6)
    assert store["inbound"] == [{"transfer_id": "tr-1", "quantity": 6, "eta": eta.isoformat()}]
    # A pick-up at the store can be promised for the day after the ETA, not for tomorrow.
    tomorrow, later = (now + timedelta(days=1)).isoformat(), (now + timedelta(days=3)).isoformat()
    assert stock(f"?by={tomorrow.replace('+00:00', 'Z')}")["nodes"][STORE]["atp_by"] == 0
    assert stock(f"?by={later.replace('+00:00', 'Z')}")["nodes"][STORE]["atp_by"] == 6
    assert get_json(f"http://127.0.0.1:{port}/stock/{SKU}/?by=soon")[0] == 400

    send("inventory.transfers", "tr-1", TransferReceived(
        event_id="recv-t", occurred_at=now + timedelta(days=2), source_node=STORE, transfer_id="tr-1",
        from_node=WAREHOUSE, to_node=STORE, lines=[ReceivedLine(sku=SKU, quantity_expected=6, quantity_received=5)],
    ))
    body = wait_for(stock, lambda b: b.get("nodes", {}).get(STORE, {}).get("on_hand") == 5, 60, "the receipt")
    assert body["total_in_transit"] == 0 and "inbound" not in body["nodes"][STORE]
    assert body["nodes"][STORE]["atp"] == 5

    entries = [json.loads(r.value) for r in read_to_end(pipeline.env["KAFKA_BOOTSTRAP"],
                                                        f"{pipeline.prefix}inventory.ledger-entries")]
    receipt = [e for e in entries if e["kind"] == "transfer_in"]
    assert len(receipt) == 1
    assert (receipt[0]["variance"], receipt[0]["in_transit_delta"], receipt[0]["transfer_id"]) == (-1, -6, "tr-1")
    availability = {}
    for record in read_to_end(pipeline.env["KAFKA_BOOTSTRAP"], f"{pipeline.prefix}inventory.availabilities"):
        availability[record.key.decode()] = json.loads(record.value)
    assert availability[f"{SKU}@{STORE}"]["atp"] == 5 and availability[f"{SKU}@{STORE}"]["in_transit"] == 0
    assert availability[SKU]["in_transit"] == 0 and availability[SKU]["on_hand"] == 9
