"""What channels publish about who a customer is."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from streams.base import Event, Id, NodeId, Record, Sku, UtcDatetime
from streams.erasure import EnrolIdentifier, EraseCustomer, FoldCustomer, ForgetIdentifier
from streams.pos import CustomerRef


class CustomerIdentifierLinked(Event):
    """A channel learned that `identifier` belongs to the customer known as `known_as`.

    Raw identifiers travel on this ingest topic only; identity resolution hashes them.
    """

    type: Literal["customer.identifier_linked"] = "customer.identifier_linked"
    known_as: CustomerRef
    identifier: CustomerRef
    channel: Literal["store", "web", "app"]


DeviceId = Annotated[str, Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


class CustomerDeviceSeen(Event):
    """The web shop or app saw the customer known as `known_as` signed in on a device.

    `device_id` is the app's installation id or the web shop's device cookie: opaque, raw on this
    ingest topic only (the router hashes it). A device is shared (a family tablet, a store
    kiosk), so a sighting never merges customers: identity resolution ignores it, and the fraud
    rules count how many accounts one device serves (`linked_accounts`, entity kind `device`).
    """

    type: Literal["customer.device_seen"] = "customer.device_seen"
    known_as: CustomerRef
    device_id: DeviceId
    channel: Literal["web", "app"]


class PurchaseLine(Record):
    line_no: int = Field(ge=1, le=1000)
    sku: Sku
    quantity: int = Field(gt=0)
    net_cents: int = Field(ge=0)
    bonus_points: int = Field(default=0, ge=0, le=10_000_000)  # the promotions' bonus points for the line


class IdentifyPurchase(Event):
    """A purchase by whoever `identifier` (hashed) is: resolved to a customer, then attributed."""

    type: Literal["identity.purchase"] = "identity.purchase"
    identifier: Id  # idh-...
    purchase_event_id: Id
    purchase_key: Id  # `<store>/<receipt id>` for a till sale, `order/<order id>` for an online order
    channel: Literal["store", "web", "app"]
    node: NodeId  # the store of the sale, the fulfilment node of an order
    fulfilled: bool = True  # a till sale is complete; an order earns when shipped or picked up
    lines: list[PurchaseLine] = Field(min_length=1, max_length=500)


class AttributePurchase(Event):
    """Hop 2 of a purchase: at the purchase's partition, record whose it is (and earn once complete)."""

    type: Literal["identity.attribute"] = "identity.attribute"
    purchase_key: Id
    customer_id: Id
    purchase_event_id: Id
    purchased_at: UtcDatetime
    channel: Literal["store", "web", "app"]
    node: NodeId
    fulfilled: bool
    lines: list[PurchaseLine] = Field(min_length=1, max_length=500)


class FulfilPurchase(Event):
    """An online order left its node (shipped or picked up): its points can be earned."""

    type: Literal["identity.fulfil"] = "identity.fulfil"
    purchase_key: Id
    how: Literal["shipped", "picked_up"]


class PurchaseUnits(Record):
    line_no: int = Field(ge=1, le=1000)
    sku: Sku
    quantity: int = Field(gt=0)


class CancelPurchase(Event):
    """Units of an online order cancelled before it left: they earn nothing."""

    type: Literal["identity.cancel"] = "identity.cancel"
    purchase_key: Id
    lines: list[PurchaseUnits] = Field(min_length=1, max_length=500)


class ReturnPurchase(Event):
    """Units of a purchase brought back (any store): their points are clawed back from its customer."""

    type: Literal["identity.return"] = "identity.return"
    purchase_key: Id
    return_event_id: Id
    lines: list[PurchaseUnits] = Field(min_length=1, max_length=500)


class PurchaseRecorded(Event):
    """One customer's purchase or return, from any channel: the unified purchase history."""

    type: Literal["customer.purchase"] = "customer.purchase"
    customer_id: Id
    kind: Literal["purchase", "return"]
    purchase_key: Id
    source_event_id: Id  # the sale, order or return it records
    channel: Literal["store", "web", "app"]
    node: NodeId
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
    survivor_since: UtcDatetime | None = None
    merged: Id
    merged_since: UtcDatetime | None = None
    identifier: Id  # the identifier both claimed


def identity_key(request: Event) -> str:
    """Identity requests are keyed by the record they change: an identifier, a purchase or a customer."""
    if isinstance(request, EnrolIdentifier | FoldCustomer):
        return request.customer_id
    if isinstance(request, EraseCustomer):
        key = request.identifier or request.customer_id
        assert key is not None, "an erasure names an identifier or a customer"
        return key
    if isinstance(request, ForgetIdentifier):
        return request.identifier
    if isinstance(request, LinkIdentifiers):
        return request.known
    if isinstance(request, IdentifyPurchase | ClaimIdentifier):
        return request.identifier
    if isinstance(request, AttributePurchase | FulfilPurchase | CancelPurchase | ReturnPurchase):
        return request.purchase_key
    raise ValueError(f"{type(request).__name__} is not an identity request")
