"""Erasure: forget every identifier of a customer, keep its pseudonymous wallet. Pure.

Identity records are keyed by hashed identifier (identifier -> customer); erasure needs the
other direction, so each customer has a record too, on `identity.requests` under its own id
(`cus-…`): the identifiers that resolved to it and the customers it merged with (either way).
It is kept by `identity.enrol` (an identifier record got, or changed, its customer) and
`identity.fold` (two customers merged: each learns of the other).

An erasure (`identity.erase`) is named by a hashed identifier (hop 1: that record is dropped and
the erasure goes on to its customer) or by a customer id (hop 2: at the customer's record). A
customer erased sends `identity.forget` to every identifier it lists and the erasure on to every
customer it merged with, so the whole merge group is erased, whichever member was named; it then
keeps only when and by which request, and says so on `customers.erasures`. An identifier record
drops itself if it still resolves to that customer. An identifier that enrols with an erased
customer later (a link in flight, or the identifier seen again, which derives the same customer
id) is re-issued to a new customer, so nothing resolves to the erased one again.

Every output id is derived from the command's, so a redelivery produces the same commands;
erasing an erased customer again does nothing (the same request only says so again).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from domain.identity_log import IdentityRecord
from domain.ids import derived_id
from streams.base import Event, Record, UtcDatetime
from streams.customers import CustomersMerged
from streams.erasure import CustomerErased, EnrolIdentifier, EraseCustomer, FoldCustomer, ForgetIdentifier


class CustomerRecord(Record):
    identifiers: list[str] = []  # hashed identifiers that resolved to this customer
    linked: list[str] = []  # customers it merged with, either way (one person: erased together)
    erased_at: UtcDatetime | None = None
    erased_by: str | None = None  # the erasure request's event id
    forgotten: int = 0  # how many identifiers the erasure forgot


@dataclass(frozen=True)
class Change:
    record: IdentityRecord | CustomerRecord | None  # None: there is no record (any was dropped)
    out: list[Event] = field(default_factory=list)


def enrolments(identifier: str, before: IdentityRecord | None, after: IdentityRecord | None,
               command: Event, out: list[Event]) -> list[Event]:
    """What the customer records must hear after identity resolution changed `identifier`'s record."""
    events: list[Event] = []
    if after is not None and (before is None or before.customer_id != after.customer_id):
        events.append(_enrol_at(command, after.customer_id, identifier))
    for merged in out:
        if isinstance(merged, CustomersMerged):
            events.append(FoldCustomer(event_id=derived_id(merged.event_id, "fold"), occurred_at=merged.occurred_at,
                                       source_node="hq", customer_id=merged.merged, survivor=merged.survivor))
            events.append(FoldCustomer(event_id=derived_id(merged.event_id, "joined"), occurred_at=merged.occurred_at,
                                       source_node="hq", customer_id=merged.survivor, survivor=merged.survivor,
                                       merged=[merged.merged]))
    return events


def reissued_id(customer_id: str, identifier: str) -> str:
    """The new customer of an identifier seen after its customer was erased (not derivable from the
    identifier alone)."""
    return "cus-" + hashlib.sha256(f"{customer_id}/{identifier}".encode()).hexdigest()[:40]


def at_customer(customer_id: str, record: CustomerRecord | None,
                command: EnrolIdentifier | FoldCustomer | EraseCustomer) -> Change:
    """A customer-keyed command against the customer's record."""
    record = record or CustomerRecord()
    match command:
        case EnrolIdentifier():
            if record.erased_at is not None:
                forget = _forget(command, command.identifier, customer_id,
                                 reissue_as=reissued_id(customer_id, command.identifier))
                return Change(record, [forget])
            if command.identifier in record.identifiers:
                return Change(record)
            return Change(record.model_copy(update={"identifiers": [*record.identifiers, command.identifier]}))
        case FoldCustomer():
            others = [command.survivor] if command.survivor != customer_id else command.merged
            linked = [*record.linked, *(c for c in others if c not in record.linked and c != customer_id)]
            if record.erased_at is not None and linked != record.linked:  # merged with an erased customer
                return Change(record.model_copy(update={"linked": linked}),
                              [_erase_at(command, c, record) for c in linked if c not in record.linked])
            return Change(record.model_copy(update={"linked": linked}))
        case EraseCustomer():
            return _erase(customer_id, record, command)


def _erase(customer_id: str, record: CustomerRecord, erase: EraseCustomer) -> Change:
    if record.erased_at is not None:
        if record.erased_by != erase.request_event_id:
            return Change(record)  # erasing twice is erasing once
        return Change(record, [_fact(customer_id, record, erase)])  # a redelivery says it again
    erased = CustomerRecord(linked=record.linked, erased_at=erase.requested_at, erased_by=erase.request_event_id,
                            forgotten=len(record.identifiers))
    forgets = [_forget(erase, identifier, customer_id) for identifier in record.identifiers]
    onward = [_erase_at(erase, other, erased) for other in record.linked]
    return Change(erased, [*forgets, *onward, _fact(customer_id, erased, erase)])


def at_identifier(identifier: str, record: IdentityRecord | None,
                  command: EraseCustomer | ForgetIdentifier) -> Change:
    """An identifier-keyed erasure command against the identifier's record."""
    if record is None:
        return Change(None)
    match command:
        case EraseCustomer():  # hop 1: forget this identifier now, then its customer's others
            onward = command.model_copy(update={"event_id": derived_id(command.event_id, "customer"),
                                                "customer_id": record.customer_id, "identifier": None})
            return Change(None, [onward])
        case ForgetIdentifier():
            if record.customer_id != command.customer_id:
                return Change(record)  # it resolves to someone else now
            if command.reissue_as is None:
                return Change(None)
            reissued = IdentityRecord(customer_id=command.reissue_as, since=command.occurred_at)
            return Change(reissued, [_enrol_at(command, command.reissue_as, identifier)])


def _enrol_at(cause: Event, customer_id: str, identifier: str) -> EnrolIdentifier:
    return EnrolIdentifier(event_id=derived_id(cause.event_id, "enrol"), occurred_at=cause.occurred_at,
                           source_node="hq", customer_id=customer_id, identifier=identifier)


def _forget(cause: Event, identifier: str, customer_id: str, reissue_as: str | None = None) -> ForgetIdentifier:
    return ForgetIdentifier(event_id=derived_id(cause.event_id, f"forget:{identifier}"), occurred_at=cause.occurred_at,
                            source_node="hq", identifier=identifier, customer_id=customer_id, reissue_as=reissue_as)


def _erase_at(cause: Event, customer_id: str, erased: CustomerRecord) -> EraseCustomer:
    assert erased.erased_by is not None and erased.erased_at is not None
    return EraseCustomer(event_id=derived_id(erased.erased_by, f"erase:{customer_id}"), occurred_at=cause.occurred_at,
                         source_node="hq", customer_id=customer_id, request_event_id=erased.erased_by,
                         requested_at=erased.erased_at)


def _fact(customer_id: str, record: CustomerRecord, erase: EraseCustomer) -> CustomerErased:
    return CustomerErased(event_id=derived_id(erase.request_event_id, f"erased:{customer_id}"),
                          occurred_at=erase.occurred_at, source_node="hq", customer_id=customer_id,
                          linked=record.linked, identifiers_forgotten=record.forgotten,
                          request_event_id=erase.request_event_id, requested_at=erase.requested_at)
