"""Erasure: a customer's request to be forgotten, the commands that carry it out, and the fact."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from streams.base import Event, Id, UtcDatetime
from streams.pos import CustomerRef


class CustomerErasureRequested(Event):
    """The back office received a customer's erasure request: forget every identifier of the
    customer named by `customer_id` (`cus-…`) or known by `identifier` (raw, on this ingest topic
    only; the router hashes it). Exactly one of the two."""

    type: Literal["customer.erasure_requested"] = "customer.erasure_requested"
    customer_id: Id | None = None
    identifier: CustomerRef | None = None

    @model_validator(mode="after")
    def _one_way_to_name_the_customer(self) -> Self:
        if (self.customer_id is None) == (self.identifier is None):
            raise ValueError("name the customer by customer_id or by identifier, exactly one")
        return self


class EnrolIdentifier(Event):
    """At the customer's partition: `identifier` now resolves to `customer_id` (the index erasure reads)."""

    type: Literal["identity.enrol"] = "identity.enrol"
    customer_id: Id
    identifier: Id


class FoldCustomer(Event):
    """Two customers merged: at the merged one's partition, it joined `survivor`; at the survivor's
    (`customer_id` == `survivor`), the `merged` customer joined it. Each record links the other."""

    type: Literal["identity.fold"] = "identity.fold"
    customer_id: Id
    survivor: Id
    merged: list[Id] = Field(default_factory=list, max_length=1000)  # at the survivor: the customer that joined it


class EraseCustomer(Event):
    """Forget a customer: keyed by the hashed `identifier` it was named by (hop 1, which finds the
    customer) or by `customer_id` (hop 2, at the customer's record, which forgets each identifier)."""

    type: Literal["identity.erase"] = "identity.erase"
    customer_id: Id | None = None
    identifier: Id | None = None
    request_event_id: Id  # the customer.erasure_requested it carries out
    requested_at: UtcDatetime

    @model_validator(mode="after")
    def _names_whom(self) -> Self:
        if self.customer_id is None and self.identifier is None:
            raise ValueError("an erasure names a hashed identifier or a customer id")
        return self


class ForgetIdentifier(Event):
    """At the identifier's partition: drop its record if it still resolves to `customer_id`."""

    type: Literal["identity.forget"] = "identity.forget"
    identifier: Id
    customer_id: Id
    reissue_as: Id | None = None  # seen again after its customer was erased: a new customer id


class CustomerErased(Event):
    """A customer was erased: its identifiers are forgotten; its wallet, ledger and facts stay under
    the pseudonymous id. `linked` are the customers it merged with, each erased with it (one fact each)."""

    type: Literal["customer.erased"] = "customer.erased"
    customer_id: Id
    linked: list[Id] = Field(default_factory=list, max_length=1000)
    identifiers_forgotten: int = Field(ge=0)
    request_event_id: Id
    requested_at: UtcDatetime
