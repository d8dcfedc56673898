"""No raw identifier leaves ingestion: a simulated day through the router, identity resolution,
erasure and the DuckDB projection, every output scanned for every email, phone, card, account
and device id the day carried."""

from __future__ import annotations

import hashlib
import json
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from analytics.batch import Batch
from analytics.rows import DEAD_LETTER_COLUMNS, rows_for
from analytics.store import Projection
from domain.erasure import CustomerRecord, at_customer, at_identifier, enrolments
from domain.fraud_facts import facts_for
from domain.identity import InvalidIdentifierError, identity_requests_for, normalise
from domain.identity_log import IdentityRecord, resolve
from domain.movements import sku_commands_for
from domain.pricing.routing import book_entries_for, redemptions_for
from domain.purchases import PurchaseRecord, settle
from domain.redaction import notice_of
from sim.config import SimConfig
from sim.publish import generate
from streams.base import Event
from streams.codec import encode
from streams.customers import (
    AttributePurchase,
    CancelPurchase,
    CustomerDeviceSeen,
    CustomerIdentifierLinked,
    FulfilPurchase,
    ReturnPurchase,
    identity_key,
)
from streams.deadletter import DeadLetter
from streams.erasure import CustomerErasureRequested, EnrolIdentifier, EraseCustomer, FoldCustomer, ForgetIdentifier
from streams.pos import CustomerRef
from streams.topics import BY_NAME, DEAD_LETTER_NOTICES, IDENTITY_REQUESTS

KEY = b"a secret identity key"
AT = datetime(2026, 11, 26, 18, tzinfo=UTC)
PURCHASES = (AttributePurchase, FulfilPurchase, CancelPurchase, ReturnPurchase)


def raw_identifiers(value: Any) -> set[str]:
    """Every identifier in an event as sent and as normalised (what a careless hash input would leak)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if set(value) == {"kind", "value"}:
            found.add(value["value"])
            try:
                found.add(normalise(value["kind"], value["value"]))
            except InvalidIdentifierError:
                pass
        if "device_id" in value:
            found |= {value["device_id"], value["device_id"].lower()}
        for inner in value.values():
            found |= raw_identifiers(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= raw_identifiers(inner)
    return found


def the_day() -> list[Event]:
    events = [event for _, _, event in generate(SimConfig(events=1_000, seed=15))]
    card = CustomerRef(kind="loyalty_card", value="LC 0042-7781")
    email = CustomerRef(kind="email", value="Ann@Example.COM")
    return [
        *events,
        CustomerIdentifierLinked(event_id="link-1", occurred_at=AT, source_node="st-001", known_as=card,
                                 identifier=email, channel="store"),
        CustomerDeviceSeen(event_id="device-1", occurred_at=AT, source_node="app", known_as=email,
                           device_id="5B0C2F1E-8D4A-4C63-9E7F-2A1D6B3C8E90", channel="app"),
        CustomerErasureRequested(event_id="erase-1", occurred_at=AT + timedelta(hours=1), source_node="hq",
                                 identifier=email),
    ]


def resolve_all(*phases: list[Event]) -> list[Event]:
    """identity.requests applied as agents/identities.py applies them, each phase to quiescence
    before the next; every output, and the tables at the end."""
    identities: dict[str, IdentityRecord | None] = {}
    customers: dict[str, CustomerRecord] = {}
    purchases: dict[str, PurchaseRecord] = {}
    queue: deque[Event] = deque()
    out: list[Any] = []
    for phase in phases:
        queue.extend(phase)
        out += _drain(queue, identities, customers, purchases)
    out.append(_records(identities, customers, purchases))
    return out


def _drain(queue: deque[Event], identities: dict[str, IdentityRecord | None], customers: dict[str, CustomerRecord],
           purchases: dict[str, PurchaseRecord]) -> list[Event]:
    out: list[Event] = []
    while queue:
        command = queue.popleft()
        key = identity_key(command)
        if isinstance(command, PURCHASES):
            step = settle(purchases.get(key), command, timedelta(days=30), key)
            purchases[key] = step.record
            sent = step.out
        elif isinstance(command, EnrolIdentifier | FoldCustomer) or (
                isinstance(command, EraseCustomer) and command.identifier is None):
            change = at_customer(key, customers.get(key), command)
            assert isinstance(change.record, CustomerRecord)
            customers[key], sent = change.record, change.out
        elif isinstance(command, EraseCustomer | ForgetIdentifier):
            change = at_identifier(key, identities.get(key), command)
            identities[key] = change.record  # type: ignore[assignment]
            sent = change.out
        else:
            before = identities.get(key)
            resolved = resolve(before, command)  # type: ignore[arg-type]
            identities[key] = resolved.record
            sent = [*resolved.out, *enrolments(key, before, resolved.record, command, resolved.out)]
        out += sent
        queue.extend(event for event in sent if isinstance(event, IDENTITY_REQUESTS.events))
    return out


def _records(*tables: dict[str, Any]) -> Any:
    class Tables:  # the tables' keys and values, scanned like an event
        def model_dump_json(self) -> str:
            return json.dumps({k: None if v is None else v.model_dump(mode="json")
                               for table in tables for k, v in table.items()})
    return Tables()


def test_no_raw_identifier_reaches_an_internal_topic_a_table_or_duckdb(tmp_path: Path) -> None:
    day = the_day()
    secrets = {s for event in day for s in raw_identifiers(event.model_dump(mode="json")) if len(s) >= 6}
    assert len(secrets) > 50 and "ann@example.com" in secrets and "LC00427781" in secrets

    internal: list[Any] = []
    requests: list[Event] = []
    for event in day:
        requests += identity_requests_for(event, KEY)
        internal += [*facts_for(event, KEY), *book_entries_for(event), *redemptions_for(event),
                     *sku_commands_for(event)]
    erasures = [r for r in requests if isinstance(r, EraseCustomer)]
    assert erasures
    internal += requests + resolve_all([r for r in requests if r not in erasures], erasures)
    for event in internal:
        if isinstance(event, Event):  # its key too: every internal topic's key is built by the registry
            assert not any(s in spec.key_of(event) for spec in BY_NAME.values() if type(event) in spec.events
                           for s in secrets), event
    texts = [event.model_dump_json() for event in internal]
    assert [(s, t[:200]) for t in texts for s in secrets if s in t] == []

    batch = Batch()
    for event in [*day, *(e for e in internal if isinstance(e, Event))]:
        for table, rows in rows_for(event, AT).items():
            batch.rows[table] += rows
    projection = Projection(tmp_path / "omni.duckdb", tmp_path / "analytics.duckdb")
    projection.write(batch.frames(), {("t", 0): 1})
    assert projection.con.execute("select count(*) from fct_customer_erasures").fetchone() == (1,)
    tables = [name for (name,) in projection.con.execute("select table_name from duckdb_tables()").fetchall()]
    stored = "\n".join(str(projection.con.execute(f"select * from {name}").fetchall()) for name in tables)
    assert [s for s in secrets if s in stored] == []


def dead_letter_row(dlq_topic: str, partition: int, offset: int, letter: DeadLetter) -> dict[str, Any]:
    return notice_of(letter, dlq_topic, partition, offset).model_dump(include=set(DEAD_LETTER_COLUMNS))


def test_a_dead_letter_notice_keeps_a_digest_and_a_masked_preview_never_the_identifiers(tmp_path: Path) -> None:
    sale = next(e for e in the_day() if getattr(e, "customer", None) is not None)
    secrets = raw_identifiers(sale.model_dump(mode="json"))
    raw = encode(sale)
    for bad in (raw.replace(b'"quantity":', b'"quantity":-', 1), raw[: len(raw) // 2 + 40], b"phone +31 6 1234 5678",
                json.dumps({"email": "x.y@example.org", "note": "card 4111 1111 1111 1111"}).encode()):
        letter = DeadLetter(source_topic="pos.transactions", source_partition=1, source_offset=7, key=b"st-001",
                            raw=bad, reason="customer identifier: not an email address (9 characters, 0 digits)",
                            consumer="route_movements", failed_at=AT)
        row = dead_letter_row("pos.transactions.dlq", 0, 3, letter)
        text = json.dumps(row, default=str)
        assert [s for s in [*secrets, "x.y@example.org", "4111", "1234 5678"] if s in text] == []
        assert row["raw_bytes"] == len(bad) and len(row["raw_sha256"]) == 64
        assert row["reason"] == letter.reason  # shapes, not values: kept as written
    preview = dead_letter_row("pos.transactions.dlq", 0, 4, replace(letter, raw=raw))["preview"]
    assert f'"event_id":"{sale.event_id}"' in preview and '"type":"pos.sale"' in preview  # what, not who
    assert '"value":"[masked]"' in preview and sale.occurred_at.isoformat()[:19] in preview
    projection = Projection(tmp_path / "omni.duckdb", tmp_path / "analytics.duckdb")
    batch = Batch()
    notice = notice_of(replace(letter, raw=raw), "pos.transactions.dlq", 0, 4)  # as the sink reads it
    assert batch.add_events(DEAD_LETTER_NOTICES, [encode(notice)], AT, 1_000_000) == 0
    projection.write(batch.frames(), {("ops.dead-letter-notices", 0): 1})
    assert projection.con.execute("select preview, raw_sha256 from dead_letters").fetchall() == [
        (preview, hashlib.sha256(raw).hexdigest())]


def test_an_erasure_fact_drops_the_hashed_identifier_from_the_erased_customers_merges(tmp_path: Path) -> None:
    from streams.customers import CustomersMerged
    from streams.erasure import CustomerErased

    def merge(n: int, gone: str, keep: str) -> CustomersMerged:
        return CustomersMerged(event_id=f"m{n}", occurred_at=AT, source_node="hq", survivor=keep, merged=gone,
                               identifier=f"idh-{n:040d}")

    def project(projection: Projection, *events: Event) -> None:
        batch = Batch()
        for event in events:
            for table, rows in rows_for(event, AT).items():
                batch.rows[table] += rows
        projection.write(batch.frames(), {("t", 0): 1})

    projection = Projection(tmp_path / "omni.duckdb", tmp_path / "analytics.duckdb")
    project(projection, merge(1, "cus-b", "cus-a"), merge(2, "cus-d", "cus-c"))
    project(projection, CustomerErased(event_id="e1:erased:cus-a", occurred_at=AT, source_node="hq",
                                       customer_id="cus-a", linked=["cus-b"], identifiers_forgotten=2,
                                       request_event_id="e1", requested_at=AT))
    project(projection, merge(3, "cus-e", "cus-b"))  # a merge announced late still loses it
    rows = projection.con.execute("select event_id, merged, survivor, identifier from fct_customer_merges "
                                  "order by event_id").fetchall()
    assert rows == [("m1", "cus-b", "cus-a", None), ("m2", "cus-d", "cus-c", "idh-" + "2".zfill(40)),
                    ("m3", "cus-e", "cus-b", None)]


def test_masking_a_huge_dead_letter_takes_linear_time_and_still_masks_what_the_preview_shows() -> None:
    import time

    from domain.redaction import mask_text, preview

    started = time.process_time()
    for raw in (b"x" * 1_000_000, json.dumps({"note": "y" * 1_000_000}).encode(), b"a." * 500_000,
                json.dumps({"note": "mail me at ann@example.org " + "z" * 900_000}).encode()):
        shown = preview(raw)
        assert len(shown) <= 400 and "ann@example.org" not in shown
    assert "[email]" in mask_text("contact: bo@example.org " + "q" * 1_000_000)
    assert time.process_time() - started < 5.0  # CPU seconds; quadratic, a 1 MB record took minutes
