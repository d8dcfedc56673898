"""What channels publish about who a customer is."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from streams.base import Event, Id, Record, Sku, UtcDatetime
from streams.pos import CustomerRef


class CustomerIdentifierLinked(Event):
    """A channel learned that `identifier` belongs to the customer known as `known_as`.

    Raw identifiers travel on this ingest topic only; identity resolution hashes them.
    """

    type: Literal["customer.identifier_linked"] = "customer.identifier_linked"
    known_as: CustomerRef
    identifier: CustomerRef
    channel: Literal["store", "web", "app"]


class PurchaseLine(Record):
    line_no: int = Field(ge=1, le=1000)
    sku: Sku
    quantity: int = Field(gt=0)
    net_cents: int = Field(ge=0)


class IdentifyPurchase(Event):
    """A purchase by whoever `identifier` (hashed) is: resolved to a customer, then earned on."""

    type: Literal["identity.purchase"] = "identity.purchase"
    identifier: Id  # idh-...
    purchase_event_id: Id
    channel: Literal["store", "web", "app"]
    lines: list[PurchaseLine] = Field(min_length=1, max_length=500)


class LinkIdentifiers(Event):
    """Hop 1 of a link: at `known`'s partition, find (or create) its customer, then claim `identifier`."""

    type: Literal["identity.link"] = "identity.link"
    known: Id
    identifier: Id


class ClaimIdentifier(Event):
    """Hop 2 of a link: at `identifier`'s partition, attach it to `customer_id` (or merge)."""

    type: Literal["identity.claim"] = "identity.claim"
    identifier: Id
    customer_id: Id
    customer_since: UtcDatetime


class CustomersMerged(Event):
    """Two known customers turned out to be one: `merged` joins `survivor` (seen first)."""

    type: Literal["customer.merged"] = "customer.merged"
    survivor: Id
    merged: Id
    identifier: Id  # the identifier both claimed
