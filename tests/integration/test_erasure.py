"""A customer's erasure against the real broker: identifiers forgotten, wallet and ledger kept."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest

from ops.processes import post_json
from streams.codec import encode
from streams.customers import CustomerIdentifierLinked
from streams.erasure import CustomerErasureRequested
from streams.pos import CustomerRef, PosSale, SaleLine, Tender
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, query, read_to_end, wait_for

pytestmark = pytest.mark.integration
STORE = "st-001"
AUTH = {"X-Client": "ops", "Authorization": "Bearer secret"}
CARD = CustomerRef(kind="loyalty_card", value="lc 5555-0001")
EMAIL = CustomerRef(kind="email", value="Erase.Me@Example.COM")
PHONE = CustomerRef(kind="phone", value="06 5555 0001")


def get(port: str, path: str) -> tuple[int, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=AUTH)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")
    except OSError:
        return 0, None


def sale(event_id: str, customer: CustomerRef, cents: int) -> PosSale:
    return PosSale(event_id=event_id, occurred_at=datetime.now(UTC), source_node=STORE, receipt_id=event_id,
                   terminal_id="t-1", cashier_id="c-1", customer=customer,
                   lines=[SaleLine(line_no=1, sku="SKU-0E1", quantity=1, unit_price_cents=cents)],
                   tenders=[Tender(method="card", amount_cents=cents)])


def test_an_erased_customer_resolves_no_more_and_keeps_its_points_under_its_pseudonymous_id(
        pipeline: Pipeline) -> None:
    worker = pipeline.worker(OMNI_CLIENT_TOKENS="ops:secret:operator", OMNI_RETURN_WINDOW_DAYS="0",
                             OMNI_IDENTITY_KEY="erasure-test-key").start()
    sink = pipeline.sink().start()
    worker.wait_healthy()
    sink.wait_healthy()
    port, bootstrap = worker.env["OMNI_WEB_PORT"], pipeline.env["KAFKA_BOOTSTRAP"]
    kafka = producer(bootstrap)

    def send(topic: str, key: str, event: Any) -> None:
        kafka.send(f"{pipeline.prefix}{topic}", key=key.encode(), value=encode(event)).get(timeout=10)

    def resolve(ref: CustomerRef) -> tuple[int, Any]:
        return post_json(f"http://127.0.0.1:{port}/customers/resolve/", {"kind": ref.kind, "value": ref.value}, AUTH)

    def wallet(customer: str, what: str, done: Any) -> dict[str, Any]:
        return wait_for(lambda: get(port, f"/wallets/{customer}/")[1] or {}, done, 60, what)

    # Two customers earn (a card, then a phone), then the card's gets the email and the email the
    # phone: one person, merged into the card's customer, seen first.
    send("pos.transactions", STORE, sale("er-1", CARD, 2_000))
    card_customer = wait_for(lambda: resolve(CARD), lambda r: r[0] == 200, 60, "the card's customer")[1]["customer_id"]
    send("pos.transactions", STORE, sale("er-2", PHONE, 1_000))
    phone_customer = wait_for(lambda: resolve(PHONE), lambda r: r[0] == 200, 60, "the phone's customer")[1][
        "customer_id"]
    assert phone_customer != card_customer
    send("customers.identifiers", "x", CustomerIdentifierLinked(event_id="er-link-1", occurred_at=datetime.now(UTC),
                                                                source_node="web", known_as=CARD, identifier=EMAIL,
                                                                channel="web"))
    wait_for(lambda: resolve(EMAIL)[1].get("customer_id"), lambda c: c == card_customer, 60, "the email linked")
    send("customers.identifiers", "x", CustomerIdentifierLinked(event_id="er-link-2", occurred_at=datetime.now(UTC),
                                                                source_node="web", known_as=EMAIL, identifier=PHONE,
                                                                channel="web"))
    wait_for(lambda: resolve(PHONE)[1].get("customer_id"), lambda c: c == card_customer, 60, "the merge")
    before = wallet(card_customer, "both sales' points in the survivor's wallet", lambda w: w.get("available") == 30)

    send("customers.erasure-requests", EMAIL.value, CustomerErasureRequested(
        event_id="er-request-1", occurred_at=datetime.now(UTC), source_node="hq", identifier=EMAIL))
    for ref in (EMAIL, CARD, PHONE):
        assert wait_for(lambda ref=ref: resolve(ref), lambda r: r[0] == 404, 60, f"{ref.kind} forgotten")[0] == 404
    after = wallet(card_customer, "the wallet kept", lambda w: w.get("available") is not None)
    assert {k: after[k] for k in ("available", "pending", "held")} == {k: before[k] for k in ("available", "pending",
                                                                                            "held")}
    facts = wait_for(lambda: read_to_end(bootstrap, f"{pipeline.prefix}customers.erasures"),
                     lambda r: len({json.loads(x.value)["customer_id"] for x in r}) == 2, 60, "two customers erased")
    assert {json.loads(x.value)["customer_id"] for x in facts} == {card_customer, phone_customer}

    # Erasing again changes nothing; the card seen again is a new customer, not the erased one
    # (that first sale's points still go to the erased wallet: docs/identity.md, Erasure, limits).
    send("customers.erasure-requests", card_customer, CustomerErasureRequested(
        event_id="er-request-2", occurred_at=datetime.now(UTC), source_node="hq", customer_id=card_customer))
    send("pos.transactions", STORE, sale("er-3", CARD, 500))
    again = wait_for(lambda: resolve(CARD), lambda r: r[0] == 200 and r[1]["customer_id"] != card_customer, 60,
                     "the card re-issued to a new customer")[1]["customer_id"]
    assert again not in (card_customer, phone_customer)
    time.sleep(2)  # the second request had its chance
    assert {json.loads(x.value)["request_event_id"]
            for x in read_to_end(bootstrap, f"{pipeline.prefix}customers.erasures")} == {"er-request-1"}

    # DuckDB: the erasures, and the merge without the identifier both claimed; no raw identifier.
    snapshot = pipeline.analytics_path
    erased = wait_for(lambda: query(snapshot, "select customer_id from fct_customer_erasures order by 1"),
                      lambda rows: len(rows) == 2, 60, "erasures in DuckDB")
    assert {row[0] for row in erased} == {card_customer, phone_customer}
    merges = wait_for(lambda: query(snapshot, "select merged, survivor, identifier from fct_customer_merges"),
                      lambda rows: len(rows) == 1, 60, "the merge in DuckDB")
    assert merges == [(phone_customer, card_customer, None)]
    internal = b"".join(r.value or b"" for topic in ("identity.requests", "customers.erasures", "customers.merges")
                        for r in read_to_end(bootstrap, f"{pipeline.prefix}{topic}"))
    assert b"example.com" not in internal.lower() and b"5555" not in internal
