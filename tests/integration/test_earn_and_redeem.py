"""Earn in a store, redeem online, against the real broker: one customer across two channels."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ops.processes import get_json, post_json
from streams.codec import encode
from streams.customers import CustomerIdentifierLinked
from streams.pos import CustomerRef, PosSale, SaleLine, Tender
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, read_to_end, wait_for

pytestmark = pytest.mark.integration
STORE = "st-001"


def post(port: str, path: str, body: dict[str, Any], token: bool = False) -> tuple[int, dict[str, Any]]:
    auth = {"X-Client": "web-checkout", "Authorization": "Bearer s3cret"} if token else {}
    return post_json(f"http://127.0.0.1:{port}{path}", body, auth)


def sale(event_id: str, customer: CustomerRef) -> PosSale:
    lines = [SaleLine(line_no=1, sku="SKU-0L1", quantity=2, unit_price_cents=1_999),
             SaleLine(line_no=2, sku="SKU-0L2", quantity=1, unit_price_cents=500)]
    return PosSale(event_id=event_id, occurred_at=datetime.now(UTC), source_node=STORE, receipt_id=event_id,
                   terminal_id="t-1", cashier_id="c-1", customer=customer, lines=lines,
                   tenders=[Tender(method="card", amount_cents=4_498)])


def test_a_customer_earns_with_a_card_in_store_and_redeems_online_by_email(pipeline: Pipeline) -> None:
    worker = pipeline.worker(OMNI_LOYALTY_TOKENS="web-checkout:s3cret", OMNI_RETURN_WINDOW_DAYS="0",
                             OMNI_IDENTITY_KEY="integration-test-key").start()
    worker.wait_healthy()
    port = worker.env["OMNI_WEB_PORT"]
    kafka = producer(pipeline.env["KAFKA_BOOTSTRAP"])

    def send(topic: str, key: str, event: Any) -> None:
        kafka.send(f"{pipeline.prefix}{topic}", key=key.encode(), value=encode(event)).get(timeout=10)

    card = CustomerRef(kind="loyalty_card", value="lc 1234-5678")
    for _ in range(2):  # the till's retry: the same receipt twice earns once
        send("pos.transactions", STORE, sale("rcpt-1", card))
    # 2 x 19.99 + 5.00 = 44.98 -> 39 + 5 points at the base rate
    def resolve(kind: str, value: str) -> tuple[int, dict[str, Any]]:
        return post(port, "/customers/resolve/", {"kind": kind, "value": value}, token=True)

    assert post(port, "/customers/resolve/", {"kind": "loyalty_card", "value": "LC12345678"})[0] == 401  # no token
    customer = wait_for(lambda: resolve("loyalty_card", "LC12345678"),
                        lambda r: r[0] == 200, 60, "the card's customer")[1]["customer_id"]
    assert customer.startswith("cus-")
    wallet = wait_for(lambda: get_json(f"http://127.0.0.1:{port}/wallets/{customer}/")[1] or {},
                      lambda w: w.get("available") == 44, 60, "44 points earned")
    assert wallet["pending"] == 0

    # Online, the customer adds the card to the web account (email): one customer, one wallet.
    send("customers.identifiers", "lc12345678", CustomerIdentifierLinked(
        event_id="link-1", occurred_at=datetime.now(UTC), source_node="web", known_as=card,
        identifier=CustomerRef(kind="email", value=" Ann.Smit@Example.COM"), channel="web"))
    by_email = wait_for(lambda: resolve("email", "ann.smit@example.com"),
                        lambda r: r[0] == 200, 60, "the email's customer")[1]
    assert by_email["customer_id"] == customer

    status, hold = post(port, f"/wallets/{customer}/holds/", {"request_id": "web-r1", "points": 30}, token=True)
    assert (status, hold["status"]) == (201, "granted")
    assert post(port, f"/wallets/{customer}/holds/web-r1/capture/", {}, token=True)[1]["status"] == "captured"
    wallet = get_json(f"http://127.0.0.1:{port}/wallets/{customer}/")[1]
    assert (wallet["available"], wallet["held"]) == (14, 0)

    # No raw identifier left the ingest topics.
    internal = read_to_end(pipeline.env["KAFKA_BOOTSTRAP"], f"{pipeline.prefix}identity.requests")
    internal += read_to_end(pipeline.env["KAFKA_BOOTSTRAP"], f"{pipeline.prefix}loyalty.commands")
    assert internal and not any(b"example.com" in r.value or b"12345678" in r.value.lower() for r in internal)

    # An identifier that cannot be normalised: the sale still moves stock, the record is dead-lettered.
    send("pos.transactions", STORE, sale("rcpt-2", CustomerRef(kind="phone", value="123")))
    letters = wait_for(lambda: read_to_end(pipeline.env["KAFKA_BOOTSTRAP"], f"{pipeline.prefix}pos.transactions.dlq"),
                       lambda r: len(r) == 1, 60, "the dead letter")
    reason = dict(letters[0].headers)["dlq.reason"].decode()
    assert "customer identifier" in reason and "stock movements of this record were routed" in reason
