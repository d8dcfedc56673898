"""A customer's points across channels, merges, returns and tiers, against the real broker.

Two customers, as the systems first know them: a loyalty card at a till and an email online.
The card earns in store; the email's web order earns only once shipped (net of a cancelled
unit); then the customer links the card to the web account: two known customers are one, the
one seen first survives and the other's wallet moves into it by ledger transfer. A return in
another store, without the card, claws back the returned unit's points through the receipt;
the spend crosses a tier threshold, the change published with the spend behind it; a hold asked
under the merged-away id is answered by the survivor's wallet.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from ops.processes import get_json
from streams.codec import decode, encode
from streams.customers import CustomerIdentifierLinked
from streams.orders import OrderCancelled, OrderPlaced, OrderShipped, ShippingAddress
from streams.pos import CustomerRef, PosReturn, PosSale, ReturnLine, SaleLine, Tender
from streams.topics import LOYALTY_LEDGER, LOYALTY_TIERS
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, read_to_end, wait_for
from tests.integration.test_earn_and_redeem import post

pytestmark = [pytest.mark.integration, pytest.mark.time_sensitive]
CARD = CustomerRef(kind="loyalty_card", value="LC-7777-0001")
EMAIL = CustomerRef(kind="email", value="bo@example.org")


def test_points_follow_the_customer_through_an_order_a_merge_a_return_and_tiers(pipeline: Pipeline) -> None:
    worker = pipeline.worker(OMNI_LOYALTY_TOKENS="web-checkout:s3cret", OMNI_RETURN_WINDOW_DAYS="0",
                             OMNI_IDENTITY_KEY="journeys-key", OMNI_TIER_THRESHOLDS="base:0,silver:10000",
                             OMNI_TIER_MULTIPLIERS="base:1,silver:2").start()
    worker.wait_healthy()
    port = worker.env["OMNI_WEB_PORT"]
    bootstrap = pipeline.env["KAFKA_BOOTSTRAP"]
    kafka = producer(bootstrap)

    def send(topic: str, key: str, event: Any) -> None:
        kafka.send(f"{pipeline.prefix}{topic}", key=key.encode(), value=encode(event)).get(timeout=10)

    def read(topic: str) -> list[Any]:
        return read_to_end(bootstrap, f"{pipeline.prefix}{topic}")

    def customer_of(ref: CustomerRef) -> str:
        return wait_for(lambda: post(port, "/customers/resolve/", {"kind": ref.kind, "value": ref.value}, token=True),
                        lambda r: r[0] == 200, 60, f"the {ref.kind}'s customer")[1]["customer_id"]

    def wallet(customer: str, done: Any, what: str) -> dict[str, Any]:
        return wait_for(lambda: get_json(f"http://127.0.0.1:{port}/wallets/{customer}/")[1] or {}, done, 60, what)

    # In store, by card: 3 x 20.00 = 60 points at base (the card's customer is seen first).
    send("pos.transactions", "st-001", PosSale(
        event_id="sale-1", occurred_at=datetime.now(UTC), source_node="st-001", receipt_id="r-1", terminal_id="t-1",
        cashier_id="c-1", customer=CARD, lines=[SaleLine(line_no=1, sku="SKU-0J1", quantity=3, unit_price_cents=2_000)],
        tenders=[Tender(method="card", amount_cents=6_000)]))
    card_customer = customer_of(CARD)
    wallet(card_customer, lambda w: w.get("available") == 60, "60 points in store")

    # Online, by email: 2 x 30.00 ordered, one cancelled; nothing until it ships, then 30 points.
    send("web.orders", "o-1", OrderPlaced(
        event_id="order-1", occurred_at=datetime.now(UTC), source_node="web", order_id="o-1", channel="web",
        customer=EMAIL, delivery="ship_to_address", fulfilment_node="wh-001",
        ship_to=ShippingAddress(postcode="1011AB", country="NL"),
        lines=[SaleLine(line_no=1, sku="SKU-0J2", quantity=2, unit_price_cents=3_000)]))
    email_customer = customer_of(EMAIL)
    assert email_customer != card_customer
    send("web.orders", "o-1", OrderCancelled(
        event_id="order-1-cancel", occurred_at=datetime.now(UTC), source_node="web", order_id="o-1",
        fulfilment_node="wh-001", reason="customer changed mind",
        lines=[{"sku": "SKU-0J2", "quantity": 1}]))  # type: ignore[list-item]
    assert (get_json(f"http://127.0.0.1:{port}/wallets/{email_customer}/")[1] or {}).get("available", 0) == 0
    send("web.orders", "o-1", OrderShipped(event_id="order-1-shipped", occurred_at=datetime.now(UTC),
                                           source_node="wh-001", order_id="o-1", fulfilment_node="wh-001"))
    wallet(email_customer, lambda w: w.get("available") == 30, "30 points once shipped, net of the cancelled unit")

    # The customer adds the card to the web account: one customer, the card's (seen first).
    send("customers.identifiers", "link", CustomerIdentifierLinked(
        event_id="link-1", occurred_at=datetime.now(UTC), source_node="web", known_as=EMAIL, identifier=CARD,
        channel="web"))
    merged = wallet(email_customer, lambda w: w.get("customer_id") == card_customer and w.get("available") == 90,
                    "the email's wallet answered by the survivor with both histories")
    assert merged["held"] == 0 and merged["pending"] == 0
    # 60.00 + 30.00 of spend crossed 100.00? no: 90.00, still base.
    assert merged["tier"] == "base" and merged["tier_spend_cents"] == 9_000

    # In another store, without the card, one unit of the receipt comes back: 20 points clawed back.
    send("pos.transactions", "st-002", PosReturn(
        event_id="return-1", occurred_at=datetime.now(UTC), source_node="st-002", return_id="ret-1",
        terminal_id="t-9", cashier_id="c-9", original_receipt_id="r-1", original_node="st-001",
        refund_method="card", lines=[ReturnLine(line_no=1, sku="SKU-0J1", quantity=1, refund_cents=2_000,
                                                condition="sellable")]))
    after_return = wallet(card_customer, lambda w: w.get("available") == 70, "the returned unit's points clawed back")
    assert after_return["tier_spend_cents"] == 7_000

    # 40.00 more in store: 110.00 reaches silver (10,000 cents) and the tier change is published.
    send("pos.transactions", "st-001", PosSale(
        event_id="sale-2", occurred_at=datetime.now(UTC), source_node="st-001", receipt_id="r-2", terminal_id="t-1",
        cashier_id="c-1", customer=EMAIL, tenders=[Tender(method="card", amount_cents=4_000)],
        lines=[SaleLine(line_no=1, sku="SKU-0J1", quantity=2, unit_price_cents=2_000)]))
    silver = wallet(card_customer, lambda w: w.get("tier") == "silver", "silver after 110.00 of spend")
    assert silver["available"] == 110 and silver["tier_spend_cents"] == 11_000  # earned at base, then promoted
    tiers = [decode(LOYALTY_TIERS, r.value, 1 << 20) for r in read(LOYALTY_TIERS.name)]
    assert [(t.customer_id, t.previous, t.tier, t.spend_cents) for t in tiers] == [
        (card_customer, "base", "silver", 11_000)]

    # A hold asked under the merged-away id is granted by the survivor's wallet.
    status, hold = post(port, f"/wallets/{email_customer}/holds/", {"request_id": "web-r9", "points": 100},
                        token=True)
    assert (status, hold["status"], hold["customer_id"]) == (201, "granted", card_customer)

    # The ledger: every wallet's balances are the sum of its entries; the merge nets to zero.
    def sums() -> Counter[tuple[str, str]]:
        ledger = [decode(LOYALTY_LEDGER, r.value, 1 << 20) for r in read(LOYALTY_LEDGER.name)]
        entries = {(p.customer_id, e.entry_id): e for p in ledger for e in p.entries}
        out: Counter[tuple[str, str]] = Counter()
        for (customer, _), e in entries.items():
            out[(customer, e.credit)] += e.points
            out[(customer, e.debit)] -= e.points
        return out

    sums = wait_for(sums, lambda s: s[(card_customer, "held")] == 100, 30, "the hold's entry on the ledger")
    assert sums[(card_customer, "available")] == 10 and sums[(card_customer, "held")] == 100
    assert all(sums[(email_customer, a)] == 0 for a in ("pending", "available", "held"))
    assert sum(v for (_, account), v in sums.items() if account == "program:merges") == 0
