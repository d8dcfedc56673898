"""The fraud facts mapper: valid facts, keyed by their entity, derived ids, no raw identifiers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.fraud_facts import facts_for
from domain.identity import InvalidIdentifierError, hashed_device, identity_requests_for, normalise
from streams.base import Event
from streams.codec import decode
from streams.customers import CustomerDeviceSeen
from streams.fraud import LinkSeen, RedemptionSeen, ReturnSeen, TillActivity, entity_key
from streams.pos import CustomerRef, PosReturn, PosSale, PosVoid, ReturnLine, SaleLine, Tender
from streams.topics import FRAUD_FACTS

KEY = b"test-key"
T0 = datetime(2026, 11, 27, 9, tzinfo=UTC)

customers = st.one_of(
    st.none(),
    st.builds(CustomerRef, kind=st.just("phone"), value=st.from_regex(r"\A06[1-9]{8}\Z")),
    st.builds(CustomerRef, kind=st.just("email"), value=st.from_regex(r"\A[a-z]{5,9}@mail\.example\Z")),
    st.builds(CustomerRef, kind=st.just("loyalty_card"), value=st.from_regex(r"\A77[0-9]{8}\Z")),
    st.builds(CustomerRef, kind=st.just("loyalty_card"), value=st.just("lc-1")),  # too short: never hashed
)
sale_lines = st.lists(st.tuples(st.sampled_from(["SKU-001", "SKU-002"]), st.integers(1, 3), st.integers(1, 500),
                                st.booleans()), min_size=1, max_size=4)


@st.composite
def sales(draw: st.DrawFn) -> PosSale:
    lines = [SaleLine(line_no=n, sku=sku, quantity=q, unit_price_cents=p, price_overridden=o)
             for n, (sku, q, p, o) in enumerate(draw(sale_lines), 1)]
    total = sum(line.net_cents for line in lines)
    points = draw(st.integers(0, total))
    tenders = [Tender(method="loyalty_points", amount_cents=points, points=points)] if points else []
    if total - points or not tenders:
        tenders.append(Tender(method="card", amount_cents=total - points))
    return PosSale(event_id=draw(st.from_regex(r"\A[a-f0-9]{8}-sale\Z")), occurred_at=T0, source_node="store-a",
                   receipt_id="R-1", terminal_id="T1", cashier_id="C-1", customer=draw(customers), lines=lines,
                   tenders=tenders)


@st.composite
def returns(draw: st.DrawFn) -> PosReturn:
    receipt = draw(st.sampled_from([None, "R-1"]))
    return PosReturn(event_id=draw(st.from_regex(r"\A[a-f0-9]{8}-return\Z")), occurred_at=T0, source_node="store-b",
                     return_id="RT-1", terminal_id="T1", cashier_id="C-2", original_receipt_id=receipt,
                     original_node=draw(st.sampled_from([None, "store-a", "web"])) if receipt else None,
                     customer=draw(customers), refund_method="card",
                     lines=[ReturnLine(line_no=1, sku="SKU-001", quantity=1, refund_cents=100, condition="sellable")])


voids = st.builds(lambda e: PosVoid(event_id=e, occurred_at=T0, source_node="store-a", receipt_id="R-1",
                                    terminal_id="T1", cashier_id="C-1", reason="mistake",
                                    lines=[{"sku": "SKU-001", "quantity": 1}]),  # type: ignore[list-item]
                  st.from_regex(r"\A[a-f0-9]{8}-void\Z"))
known_refs = st.one_of(
    st.builds(CustomerRef, kind=st.just("app_account"), value=st.from_regex(r"\Aapp-[0-9]{6}\Z")),
    st.builds(CustomerRef, kind=st.just("email"), value=st.from_regex(r"\A[a-z]{5,9}@mail\.example\Z")),
)
devices = st.builds(
    lambda e, who, device, channel: CustomerDeviceSeen(event_id=e, occurred_at=T0, source_node=channel,
                                                       known_as=who, device_id=device, channel=channel),
    st.from_regex(r"\A[a-f0-9]{8}-device\Z"), known_refs, st.from_regex(r"\A[A-Fa-f0-9-]{12,36}\Z"),
    st.sampled_from(["web", "app"]),
)
ingest = st.one_of(sales(), returns(), voids, devices)


def raw_values(event: Event) -> list[str]:
    if isinstance(event, CustomerDeviceSeen):
        ref = event.known_as
        return [event.device_id, event.device_id.lower(), ref.value, normalise(ref.kind, ref.value)]
    ref = getattr(event, "customer", None)
    if ref is None:
        return []
    try:
        return [ref.value, normalise(ref.kind, ref.value)]
    except InvalidIdentifierError:
        return [ref.value]


@settings(max_examples=300, deadline=None)
@given(ingest)
def test_every_fact_decodes_on_its_topic_keys_by_its_entity_and_derives_its_id_from_the_event(event) -> None:
    facts = facts_for(event, KEY)
    assert facts_for(type(event).model_validate_json(event.model_dump_json()), KEY) == facts  # same event, same facts
    assert len({f.event_id for f in facts}) == len(facts)
    for fact in facts:
        assert decode(FRAUD_FACTS, fact.model_dump_json().encode(), 262_144) == fact
        assert entity_key(fact).split(":", 1)[0] in {"store", "receipt", "sku", "card", "identifier"}
        assert fact.event_id.startswith(f"{event.event_id}:fraud-")
        assert (fact.occurred_at, fact.source_node) == (event.occurred_at, event.source_node)


@settings(max_examples=300, deadline=None)
@given(ingest)
def test_no_raw_identifier_appears_in_any_fact(event) -> None:
    text = json.dumps([f.model_dump(mode="json") for f in facts_for(event, KEY)])
    assert [value for value in raw_values(event) if value in text] == []
    for fact in facts_for(event, KEY):
        if isinstance(fact, RedemptionSeen):
            assert fact.identifier.startswith("idh-")


@settings(max_examples=200, deadline=None)
@given(sales())
def test_a_sale_gives_its_till_activity_and_a_redemption_when_points_are_tendered_by_a_known_card(sale) -> None:
    facts = facts_for(sale, KEY)
    kinds = [f.activity for f in facts if isinstance(f, TillActivity)]
    assert kinds == ["sale", *(["price_override"] if any(line.price_overridden for line in sale.lines) else [])]
    points = sum(t.points or 0 for t in sale.tenders)
    redemptions = [f for f in facts if isinstance(f, RedemptionSeen)]
    hashable = sale.customer is not None and sale.customer.value != "lc-1"
    assert [r.points for r in redemptions] == ([points] if points and hashable else [])


@settings(max_examples=200, deadline=None)
@given(returns())
def test_a_return_without_a_receipt_is_a_no_receipt_refund_and_meets_no_sale(ret) -> None:
    facts = facts_for(ret, KEY)
    (till,) = [f for f in facts if isinstance(f, TillActivity)]
    returned = [f for f in facts if isinstance(f, ReturnSeen)]
    if ret.original_receipt_id is None:
        assert (till.activity, returned) == ("no_receipt_refund", [])
    else:
        expected = "order/R-1" if ret.original_node == "web" else f"{ret.original_node or 'store-b'}/R-1"
        assert (till.activity, [r.purchase_key for r in returned]) == ("refund", [expected])


@settings(max_examples=100, deadline=None)
@given(devices)
def test_a_device_sighting_is_a_link_of_the_hashed_device_whatever_its_case(seen: CustomerDeviceSeen) -> None:
    (fact,) = facts_for(seen, KEY)
    assert isinstance(fact, LinkSeen) and fact.identifier_kind == "device"
    assert fact.identifier == hashed_device(seen.device_id, KEY) and fact.identifier.startswith("idh-")
    upper = seen.model_copy(update={"device_id": seen.device_id.upper()})
    assert facts_for(upper, KEY)[0].identifier == fact.identifier  # installation ids are case-insensitive
    assert identity_requests_for(seen, KEY) == []  # a shared device never merges customers


def test_a_device_sighting_with_an_unusable_account_goes_to_the_dead_letters_not_nowhere() -> None:
    seen = CustomerDeviceSeen(event_id="e-1", occurred_at=T0, source_node="app", channel="app",
                              known_as=CustomerRef(kind="email", value="not-an-email"), device_id="dev-12345678")
    assert facts_for(seen, KEY) == []
    with pytest.raises(InvalidIdentifierError):  # the router dead-letters on this
        identity_requests_for(seen, KEY)
