"""Fraud rules end to end against the real broker: each rule's pattern raises exactly one alert.

Ordinary contract events make eight patterns (a card redeeming at three stores in ten
minutes; one phone linked to three accounts; one device three accounts sign in on; a return
of a receipt never sold; a refund above what was paid; a cashier's post-voids far above the
store's other cashiers; a till line charged 40 % under the centre's re-price, as the pricing
stage reports it; a loyalty customer buying and returning three purchases), beside traffic that
must not alert. Returns wait `OMNI_FRAUD_JOIN_GRACE_SECONDS` for the sale they are judged against.
Every event is published twice (a producer's retry): each pattern gives one alert id on
`fraud.alerts`, one row in DuckDB, one webhook delivery with the alert id as its idempotency
key, and a log line in the worker's log.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from domain.fraud_facts import facts_for_variance
from domain.identity import hashed, hashed_device, normalise
from ops import processes
from streams.codec import decode, encode
from streams.customers import CustomerDeviceSeen, CustomerIdentifierLinked
from streams.pos import CustomerRef, PosReturn, PosSale, PosVoid, ReturnLine, SaleLine, Tender, VoidLine
from streams.redemptions import PricingVariance
from streams.topics import FRAUD_ALERTS, FRAUD_FACTS
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, query, read_to_end, wait_for

pytestmark = pytest.mark.integration
KEY = "fraud-test-key"
GRACE_S = 2
NOW = datetime.now(UTC).replace(microsecond=0)
CLONED = CustomerRef(kind="loyalty_card", value="LC-CLONE-0001")
LOOPER = CustomerRef(kind="loyalty_card", value="LC-LOOP-0001")
PHONE = CustomerRef(kind="phone", value="+31612345678")
FARM_DEVICE = "9f1c7e2a-55b0-4d8e-a3c1-0e6b2d4f8a17"


class Webhook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Webhook.received.append((self.headers.get("Idempotency-Key", ""), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def sale(event_id: str, store: str, receipt: str, cashier: str, sku: str, quantity: int, unit: int,
         at: datetime, customer: CustomerRef | None = None, points: int = 0) -> PosSale:
    net = quantity * unit
    tenders = [Tender(method="card", amount_cents=net)]
    if points:
        tenders = [Tender(method="loyalty_points", amount_cents=points, points=points),
                   Tender(method="card", amount_cents=net - points)]
    return PosSale(event_id=event_id, occurred_at=at, source_node=store, receipt_id=receipt, terminal_id=f"{store}-t1",
                   cashier_id=cashier, customer=customer, tenders=tenders,
                   lines=[SaleLine(line_no=1, sku=sku, quantity=quantity, unit_price_cents=unit)])


def variance(receipt: str, store: str, cashier: str, charged: int, expected: int, at: datetime) -> PricingVariance:
    """What the pricing stage reports for a one-unit till line it re-priced at `expected`."""
    return PricingVariance(event_id=f"var-{receipt}", occurred_at=at, source_node="pricing", receipt_id=receipt,
                           store=store, terminal_id=f"{store}-t1", cashier_id=cashier, line_no=1, sku="SKU-F01",
                           quantity=1, charged_cents=charged, expected_cents=expected,
                           variance_cents=charged - expected, charged_unit_price_cents=charged,
                           expected_unit_price_cents=expected, till_snapshot_version=7, centre_snapshot_version=7,
                           cause="unexplained")


def returned(event_id: str, store: str, receipt: str | None, origin: str | None, sku: str, quantity: int,
             refund: int, at: datetime, cashier: str = "c-1") -> PosReturn:
    return PosReturn(event_id=event_id, occurred_at=at, source_node=store, return_id=f"ret-{event_id}",
                     terminal_id=f"{store}-t1", cashier_id=cashier, original_receipt_id=receipt, original_node=origin,
                     refund_method="card", lines=[ReturnLine(line_no=1, sku=sku, quantity=quantity,
                                                              refund_cents=refund, condition="sellable")])


def test_each_fraud_pattern_raises_one_alert_to_topic_duckdb_webhook_and_log(pipeline: Pipeline) -> None:
    hook_port = processes.free_port()
    server = HTTPServer(("127.0.0.1", hook_port), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    worker = pipeline.worker(OMNI_IDENTITY_KEY=KEY, OMNI_FRAUD_WEBHOOK_URL=f"http://127.0.0.1:{hook_port}/alerts",
                             OMNI_FRAUD_JOIN_GRACE_SECONDS=str(GRACE_S))
    worker.start()
    pipeline.sink().start()
    worker.wait_healthy()
    bootstrap = pipeline.env["KAFKA_BOOTSTRAP"]
    kafka = producer(bootstrap)

    def send(topic: str, key: str, *events: Any) -> None:
        for event in events:
            for _ in range(2):  # every event twice, as a producer retrying after a lost ack would
                kafka.send(f"{pipeline.prefix}{topic}", key=key.encode(), value=encode(event))
        kafka.flush()

    t0 = NOW - timedelta(hours=2)
    # 1. A till line charged 6.00 where the centre prices it 10.00 (cashier c-7 at st-001), its facts
    # published as the pricing stage does; a line charged above the centre's price gives none.
    for reported in (variance("r-cheap", "st-001", "c-7", 600, 1_000, t0),
                     variance("r-dear", "st-002", "c-8", 1_200, 1_000, t0)):
        for fact in facts_for_variance(reported):
            send(FRAUD_FACTS.name, FRAUD_FACTS.key_of(fact), fact)
    # 2. A cloned card redeems at three stores within ten minutes.
    for n, store in enumerate(("st-001", "st-002", "st-003")):
        send("pos.transactions", store, sale(f"redeem-{n}", store, f"r-redeem-{n}", "c-1", "SKU-F09", 1, 5_000,
                                             t0 + timedelta(minutes=5 * n), customer=CLONED, points=2_000))
    # 3. One phone linked to three different accounts.
    for n in range(3):
        send("customers.identifiers", PHONE.value, CustomerIdentifierLinked(
            event_id=f"link-{n}", occurred_at=t0 + timedelta(hours=n), source_node="app",
            known_as=CustomerRef(kind="loyalty_card", value=f"LC-FARM-000{n}"), identifier=PHONE, channel="app"))
    # 3b. Three accounts signed in on one device (an account farm's handset); a household tablet with
    # two accounts is ordinary.
    for n in range(3):
        send("customers.identifiers", f"app-farm-{n}", CustomerDeviceSeen(
            event_id=f"device-{n}", occurred_at=t0 + timedelta(minutes=n), source_node="app", channel="app",
            known_as=CustomerRef(kind="app_account", value=f"app-farm-{n}"), device_id=FARM_DEVICE))
    for n in range(2):
        send("customers.identifiers", f"app-home-{n}", CustomerDeviceSeen(
            event_id=f"tablet-{n}", occurred_at=t0 + timedelta(minutes=n), source_node="web", channel="web",
            known_as=CustomerRef(kind="app_account", value=f"app-home-{n}"), device_id="tab-household-1"))
    # 4. A return of a receipt that was never sold; 5. a refund of 18.00 for a unit paid 10.00.
    send("pos.transactions", "st-004", returned("ghost", "st-004", "r-never", "st-004", "SKU-F03", 1, 2_500, t0))

    send("pos.transactions", "st-005", sale("pair", "st-005", "r-pair", "c-2", "SKU-F02", 2, 1_000, t0))
    send("pos.transactions", "st-005", returned("over", "st-005", "r-pair", "st-005", "SKU-F02", 1, 1_800,
                                                t0 + timedelta(hours=1)))
    # 6. At st-006 three cashiers sell ten times each with one void among them; c-66 voids six of ten.
    events: list[Any] = []
    for cashier in ("c-61", "c-62", "c-63", "c-66"):
        events += [sale(f"{cashier}-s{n}", "st-006", f"r-{cashier}-{n}", cashier, "SKU-F04", 1, 500,
                        t0 + timedelta(minutes=n)) for n in range(10)]
    voids = [("c-61", 0)] + [("c-66", n) for n in range(6)]
    events += [PosVoid(event_id=f"void-{c}-{n}", occurred_at=t0 + timedelta(minutes=30 + n), source_node="st-006",
                       receipt_id=f"r-{c}-{n}", terminal_id="st-006-t1", cashier_id=c, reason="customer changed mind",
                       lines=[VoidLine(sku="SKU-F04", quantity=1)]) for c, n in voids]
    send("pos.transactions", "st-006", *events)
    # 7. A loyalty customer buys three times and brings each back within days.
    for n in range(3):
        send("pos.transactions", "st-007", sale(f"loop-{n}", "st-007", f"r-loop-{n}", "c-3", f"SKU-L0{n}", 1, 3_000,
                                                t0 - timedelta(days=3 - n), customer=LOOPER))
    for n in range(3):
        send("pos.transactions", "st-007", returned(f"loop-back-{n}", "st-007", f"r-loop-{n}", "st-007",
                                                    f"SKU-L0{n}", 1, 3_000, t0 + timedelta(minutes=n)))

    # Returns wait (OMNI_FRAUD_JOIN_GRACE_SECONDS, append time) for a sale still on its way through
    # another partition. Later facts carry each partition's append time past the grace: the receipt's
    # returns (the ghost and the one that carried the time) are judged without a sale.
    time.sleep(GRACE_S + 1)
    send("pos.transactions", "st-004", returned("ghost-2", "st-004", "r-never", "st-004", "SKU-F03", 1, 2_500,
                                                t0 + timedelta(hours=2)))
    send("pos.transactions", "st-002", sale("fair-2", "st-002", "r-fair-2", "c-8", "SKU-F01", 1, 1_000, t0))

    card = hashed("loyalty_card", normalise("loyalty_card", CLONED.value), KEY.encode())
    phone = hashed("phone", normalise("phone", PHONE.value), KEY.encode())
    looper = "cus-" + hashed("loyalty_card", normalise("loyalty_card", LOOPER.value), KEY.encode()).removeprefix("idh-")
    expected = {
        ("till_price_below_central", "cashier", "c-7"),
        ("redemption_velocity", "customer", card),
        ("linked_accounts", "identifier", phone),
        ("linked_accounts", "device", hashed_device(FARM_DEVICE.upper(), KEY.encode())),
        ("return_without_purchase", "store", "st-004"),
        ("return_above_value", "store", "st-005"),
        ("cashier_exceptions", "cashier", "c-66"),
        ("buy_earn_return", "customer", looper),
    }
    snapshot = pipeline.analytics_path
    rows = wait_for(lambda: query(snapshot, "select rule, entity_kind, entity_id, alert_id, evidence "
                                            "from fct_fraud_alerts"),
                    lambda r: len(r) >= len(expected) + 1, 120, "an alert per pattern in DuckDB")
    assert {(r[0], r[1], r[2]) for r in rows} == expected
    ghosts = {json.loads(r[4])[0]["return_id"] for r in rows if r[0] == "return_without_purchase"}
    assert ghosts == {"ret-ghost", "ret-ghost-2"}  # the receipt's grace was over: both judged without a sale
    assert len(rows) == len(expected) + 1, "a pattern alerted twice"
    alert_ids = {r[3] for r in rows}
    evidence = {r[0]: json.loads(r[4]) for r in rows}
    assert evidence["till_price_below_central"][0]["central_price_cents"] == 1_000
    assert evidence["return_above_value"][0]["paid_cents"] == 1_000
    assert evidence["cashier_exceptions"][0]["exceptions"] >= 5
    assert {e["key"] for e in evidence["redemption_velocity"]} == {"st-001", "st-002", "st-003"}

    on_topic = read_to_end(bootstrap, f"{pipeline.prefix}{FRAUD_ALERTS.name}")
    assert {decode(FRAUD_ALERTS, r.value, 1 << 20).alert_id for r in on_topic} == alert_ids
    delivered = wait_for(lambda: {key for key, _ in Webhook.received}, lambda keys: keys >= alert_ids, 60,
                         "a webhook delivery per alert")
    assert delivered == alert_ids
    assert all(body["alert_id"] == key for key, body in Webhook.received)
    log = (pipeline.root / "logs" / "worker.log").read_text()
    assert sum(f"(alert {alert_id}," in log for alert_id in alert_ids) == len(alert_ids)
    assert log.count("FRAUD ALERT") == len(alert_ids), "a replayed alert was logged twice"
    server.shutdown()
