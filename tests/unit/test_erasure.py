"""Erasure against the reference grouping: the erased customer's identifiers all forgotten, once.

Identifiers are linked in two hops (domain/identity_log.py) and indexed by customer
(domain/erasure.py) as the agent does, each key's commands in order, different keys in any
order, any command possibly delivered twice. Then one customer is erased, named by one of its
identifiers or by a customer id of its group.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.erasure import CustomerRecord, at_customer, at_identifier, enrolments
from domain.identity import Graph, identity_requests_for
from domain.identity_log import IdentityRecord, resolve
from streams.base import Event
from streams.codec import DecodeError, decode
from streams.customers import AttributePurchase, IdentifyPurchase, LinkIdentifiers, PurchaseLine, identity_key
from streams.erasure import (
    CustomerErased,
    CustomerErasureRequested,
    EnrolIdentifier,
    EraseCustomer,
    FoldCustomer,
    ForgetIdentifier,
)
from streams.loyalty import ClawbackPoints, EarnPoints
from streams.topics import CUSTOMER_ERASURE_REQUESTS, CUSTOMER_IDENTIFIERS, IDENTITY_REQUESTS

T0 = datetime(2026, 11, 26, 9, tzinfo=UTC)
REQUESTS = tuple(IDENTITY_REQUESTS.events)


def ident(n: int) -> str:
    return f"idh-{n:040d}"


class World:
    """identity.requests and its three kinds of records, applied as agents/identities.py applies them."""

    def __init__(self) -> None:
        self.identities: dict[str, IdentityRecord] = {}
        self.customers: dict[str, CustomerRecord] = {}
        self.queues: dict[str, deque[Event]] = {}
        self.facts: list[Event] = []

    def send(self, event: Event) -> None:
        if isinstance(event, REQUESTS):
            self.queues.setdefault(identity_key(event), deque()).append(event)
        else:
            self.facts.append(event)

    def apply(self, key: str, command: Event) -> None:
        if isinstance(command, EnrolIdentifier | FoldCustomer) or (
                isinstance(command, EraseCustomer) and command.identifier is None):
            change = at_customer(key, self.customers.get(key), command)
            assert isinstance(change.record, CustomerRecord)
            self.customers[key] = change.record
            out = change.out
        elif isinstance(command, EraseCustomer | ForgetIdentifier):
            change = at_identifier(key, self.identities.get(key), command)
            if change.record is None:
                self.identities.pop(key, None)
            else:
                assert isinstance(change.record, IdentityRecord)
                self.identities[key] = change.record
            out = change.out
        elif isinstance(command, AttributePurchase):
            out = []  # the purchase's own record (domain/purchases.py): not erasure's business
        else:
            before = self.identities.get(key)
            step = resolve(before, command)  # type: ignore[arg-type]
            if step.record is not None:
                self.identities[key] = step.record
            out = [*step.out, *enrolments(key, before, step.record, command, step.out)]
        for event in out:
            self.send(event)

    def drain(self, data: st.DataObject) -> None:
        while any(self.queues.values()):
            key = data.draw(st.sampled_from(sorted(k for k, q in self.queues.items() if q)), label="key")
            command = self.queues[key].popleft()
            self.apply(key, command)
            if data.draw(st.booleans(), label="redelivered"):
                self.apply(key, command)

    def settle(self) -> None:
        """Apply everything, in key order."""
        while any(self.queues.values()):
            key = min(k for k, q in self.queues.items() if q)
            self.apply(key, self.queues[key].popleft())

    def customer_of(self, identifier: str) -> str | None:
        record = self.identities.get(identifier)
        return None if record is None else record.customer_id


def linked(links: list[tuple[int, int]], data: st.DataObject) -> tuple[World, Graph]:
    world, graph = World(), Graph()
    for i, (a, b) in enumerate(links):
        at = T0 + timedelta(minutes=i)
        world.send(LinkIdentifiers(event_id=f"link-{i}", occurred_at=at, source_node="web", known=ident(a),
                                   identifier=ident(b)))
        graph.link(ident(a), ident(b), at)
    world.drain(data)
    return world, graph


def erase(world: World, request: str, identifier: str | None = None, customer: str | None = None) -> None:
    world.send(EraseCustomer(event_id=f"{request}:erase", occurred_at=T0 + timedelta(days=1), source_node="hq",
                             identifier=identifier, customer_id=None if identifier else customer,
                             request_event_id=request, requested_at=T0 + timedelta(days=1)))


links_st = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(links_st, st.booleans(), st.data())
def test_after_an_erasure_no_identifier_of_the_customer_resolves_and_the_others_are_untouched(
        links, by_customer_id, data) -> None:
    world, graph = linked(links, data)
    named = ident(data.draw(st.sampled_from(sorted({n for link in links for n in link})), label="named"))
    members = next(ids for ids in graph.customers().values() if named in ids)
    others = {i: world.customer_of(i) for i in world.identities if i not in members}
    group = {world.customer_of(i) for i in members}
    if by_customer_id:  # any id of the group (possibly merged away) names it
        erase(world, "req-1", customer=world.customer_of(named))
    else:
        erase(world, "req-1", identifier=named)
    world.drain(data)

    assert not members & set(world.identities), "an identifier of the erased customer still resolves"
    assert {i: world.customer_of(i) for i in others} == others
    facts = {e.event_id: e for e in world.facts if isinstance(e, CustomerErased)}.values()
    assert group <= {fact.customer_id for fact in facts}  # one fact per customer of the merge group
    for fact in facts:
        assert world.customers[fact.customer_id].erased_by == "req-1"
        assert not world.customers[fact.customer_id].identifiers
    assert not any(isinstance(e, EarnPoints | ClawbackPoints) for e in world.facts)  # the wallet is not touched


@settings(max_examples=100, deadline=None)
@given(links_st, st.data())
def test_erasing_twice_leaves_what_erasing_once_left(links, data) -> None:
    world, _ = linked(links, data)
    named = ident(links[0][0])
    erase(world, "req-1", identifier=named)
    world.drain(data)
    once = (dict(world.identities), dict(world.customers))
    facts = {e.event_id for e in world.facts if isinstance(e, CustomerErased)}
    erase(world, "req-2", identifier=named)
    customer = next(k for k, r in world.customers.items() if r.erased_by == "req-1")
    erase(world, "req-3", customer=customer)
    world.drain(data)
    assert (world.identities, world.customers) == once
    assert {e.event_id for e in world.facts if isinstance(e, CustomerErased)} == facts


def test_an_erased_identifier_seen_again_becomes_a_new_customer_not_the_erased_one() -> None:
    world = World()
    lines = [PurchaseLine(line_no=1, sku="SKU-1", quantity=1, net_cents=500)]

    def purchase(n: int) -> None:
        world.send(IdentifyPurchase(event_id=f"p{n}:identity", occurred_at=T0 + timedelta(days=n), source_node="st-001",
                                    identifier=ident(1), purchase_event_id=f"p{n}", purchase_key=f"st-001/r{n}",
                                    channel="store", node="st-001", lines=lines))
        world.settle()

    purchase(1)
    erased = world.customer_of(ident(1))
    assert erased is not None
    erase(world, "req-1", identifier=ident(1))
    world.settle()
    assert world.customer_of(ident(1)) is None
    purchase(2)  # the same card again: its derived id is the erased customer's, re-issued at once
    assert world.customer_of(ident(1)) not in (None, erased)
    assert world.customers[erased].identifiers == []


ERASE_EMAIL = ('{"type":"customer.erasure_requested","event_id":"req-9","occurred_at":"2026-11-27T09:00:00+00:00",'
               '"source_node":"hq","schema_version":1,"identifier":{"kind":"email","value":"Ann@Example.COM"}}')


def test_an_erasure_request_on_the_identifiers_topic_is_refused_there_so_a_channel_cannot_erase() -> None:
    with pytest.raises(DecodeError):
        decode(CUSTOMER_IDENTIFIERS, ERASE_EMAIL.encode(), 262_144)


def test_an_erasure_request_on_its_own_topic_becomes_an_erasure_keyed_by_the_hashed_identifier() -> None:
    request = decode(CUSTOMER_ERASURE_REQUESTS, ERASE_EMAIL.encode(), 262_144)
    assert CUSTOMER_ERASURE_REQUESTS.key_for(request) == b"Ann@Example.COM"
    [erase] = identity_requests_for(request, b"k" * 32)
    assert isinstance(erase, EraseCustomer) and erase.request_event_id == "req-9" and erase.customer_id is None
    assert erase.identifier is not None and erase.identifier.startswith("idh-")
    assert identity_key(erase) == erase.identifier  # hop 1: the identifier's record finds the customer


def test_an_erasure_request_naming_a_customer_is_keyed_and_carried_out_by_customer_id() -> None:
    request = CustomerErasureRequested(event_id="req-10", occurred_at=T0, source_node="hq", customer_id="cus-1")
    assert CUSTOMER_ERASURE_REQUESTS.key_for(request) == b"cus-1"
    [erase] = identity_requests_for(request, b"k" * 32)
    assert isinstance(erase, EraseCustomer) and identity_key(erase) == "cus-1" and erase.identifier is None
