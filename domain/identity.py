"""One customer across channels: identifiers normalised, hashed, and resolved to one id. Pure.

Channels know a customer by different identifiers (phone and loyalty card at the till,
account id and email online, the app account). Identity resolution:

- normalises each identifier (`normalise`), so `+31 6 1234 5678`, `0612345678` and
  `0031612345678` are one phone, and `Ann@Example.COM ` one email;
- hashes it with a keyed hash (HMAC-SHA256, key from settings), so no raw phone number or
  email is kept anywhere after ingestion: tables, internal topics and DuckDB see only
  `idh-<hex>`;
- resolves linked identifiers to one canonical customer id, and when two known customers
  turn out to be one, merges them by a deterministic survivor rule (`survivor`): the one seen
  first survives (ties: the smaller id), so every worker, and every replay, picks the same.

`Graph` is the reference model of the resolution: union-find over hashed identifiers with
the survivor rule, used by the tests and, later, to check the distributed agents against.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from domain.ids import derived_id
from streams.base import Event
from streams.customers import (
    CancelPurchase,
    CustomerDeviceSeen,
    CustomerIdentifierLinked,
    FulfilPurchase,
    IdentifyPurchase,
    LinkIdentifiers,
    PurchaseLine,
    PurchaseUnits,
    ReturnPurchase,
)
from streams.erasure import CustomerErasureRequested, EraseCustomer
from streams.orders import OrderCancelled, OrderPickedUp, OrderPlaced, OrderShipped
from streams.pos import CustomerRef, IdentifierKind, PosReturn, PosSale
from streams.redemptions import PricingStamp

DEFAULT_COUNTRY_CODE = "31"  # numbers without a country code are Dutch, as the chain's stores are
_NON_DIGITS = re.compile(r"[^0-9]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class InvalidIdentifierError(ValueError):
    """An identifier that cannot be normalised: the event goes to the dead-letter topic.

    The message describes the value's shape, never the value: it travels in logs, the dead
    letter's reason header and DuckDB, where no raw identifier may go (the dead letter's raw
    bytes keep it for whoever repairs the producer)."""


def _shape(value: str) -> str:
    digits = sum(c.isdigit() for c in value)
    return f"{len(value)} characters, {digits} digits"


def normalise(kind: IdentifierKind, value: str, country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    raw = value.strip()
    match kind:
        case "phone":
            return _phone(raw, country_code)
        case "email":
            email = raw.lower()
            if not _EMAIL.match(email):
                raise InvalidIdentifierError(f"not an email address ({_shape(value)})")
            return email
        case "loyalty_card":
            card = re.sub(r"[\s-]", "", raw).upper()
            if not card.isalnum() or len(card) < 6:
                raise InvalidIdentifierError(f"a loyalty card number is at least 6 letters or digits ({_shape(value)})")
            return card
        case _:  # app_account, account_id: opaque ids issued by our own systems
            if not raw:
                raise InvalidIdentifierError(f"empty {kind}")
            return raw


def _phone(raw: str, country_code: str) -> str:
    digits = _NON_DIGITS.sub("", raw)
    if raw.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    elif digits.startswith("0"):
        number = country_code + digits[1:]
    else:
        number = digits
    if not 8 <= len(number) <= 15:
        raise InvalidIdentifierError(f"not a phone number: 8 to 15 digits with country code ({_shape(raw)})")
    return "+" + number


def hashed(kind: IdentifierKind | Literal["device"], normalised: str, key: bytes) -> str:
    """The identifier as every table and topic after ingestion knows it."""
    digest = hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
    return f"idh-{digest[:40]}"


def hashed_device(device_id: str, key: bytes) -> str:
    """A device id as the fraud rules know it: case folded (installation ids are UUIDs), hashed."""
    return hashed("device", device_id.strip().lower(), key)


def customer_id_for(first_identifier: str) -> str:
    """A new customer's id, derived from the first identifier it was known by (already hashed)."""
    return "cus-" + first_identifier.removeprefix("idh-")


def survivor(a: tuple[str, datetime], b: tuple[str, datetime]) -> str:
    """Which of two customers (id, first seen) a merge keeps: the older; ties, the smaller id."""
    return min((a[1], a[0]), (b[1], b[0]))[1]


@dataclass
class Graph:
    """Reference model: identifiers -> customers, with merges by the survivor rule."""

    owner: dict[str, str] = field(default_factory=dict)  # identifier -> customer (maybe merged away)
    first_seen: dict[str, datetime] = field(default_factory=dict)  # customer -> first seen
    merged_into: dict[str, str] = field(default_factory=dict)  # merged customer -> the one it joined

    def resolve(self, customer: str) -> str:
        while customer in self.merged_into:
            customer = self.merged_into[customer]
        return customer

    def customer_of(self, identifier: str) -> str | None:
        owner = self.owner.get(identifier)
        return None if owner is None else self.resolve(owner)

    def link(self, known: str, identifier: str, at: datetime) -> tuple[str, str | None]:
        """`identifier` belongs to whoever `known` is. Returns (the customer, the one merged away)."""
        customer = self.customer_of(known)
        if customer is None:
            customer = customer_id_for(known)
            self.owner[known] = customer
            self.first_seen.setdefault(customer, at)
        other = self.customer_of(identifier)
        if other is None:
            self.owner[identifier] = customer
            return customer, None
        if other == customer:
            return customer, None
        keep = survivor((customer, self.first_seen[customer]), (other, self.first_seen[other]))
        gone = other if keep == customer else customer
        self.merged_into[gone] = keep
        return keep, gone

    def customers(self) -> dict[str, set[str]]:
        """Each surviving customer and all its identifiers."""
        out: dict[str, set[str]] = {}
        for identifier in self.owner:
            out.setdefault(self.customer_of(identifier) or "", set()).add(identifier)
        return out


def purchase_key_of_sale(node: str, receipt_id: str) -> str:
    return f"{node}/{receipt_id}"


def purchase_key_of_order(order_id: str) -> str:
    return f"order/{order_id}"


ONLINE_NODE = "web"  # a return of an online order names it: original_node "web", original_receipt_id the order id


def identity_requests_for(event: object, key: bytes) -> list[Event]:
    """What identity resolution must do for an ingest event: attribute a purchase to its
    customer, complete, cancel or return (part of) one, apply a link, or erase a customer. Raw identifiers are
    hashed here and never travel further."""
    if isinstance(event, PosSale) and event.customer is not None:
        return [_identify(event, event.customer, key, purchase_key_of_sale(event.source_node, event.receipt_id),
                          "store", event.source_node, fulfilled=True)]
    if isinstance(event, OrderPlaced) and event.customer is not None:
        return [_identify(event, event.customer, key, purchase_key_of_order(event.order_id), event.channel,
                          event.node or event.channel, fulfilled=False)]
    if isinstance(event, OrderShipped | OrderPickedUp):
        return [FulfilPurchase(
            event_id=derived_id(event.event_id, "fulfil"), occurred_at=event.occurred_at,
            source_node=event.source_node, purchase_key=purchase_key_of_order(event.order_id),
            how="shipped" if isinstance(event, OrderShipped) else "picked_up",
        )]
    if isinstance(event, OrderCancelled):
        return [CancelPurchase(
            event_id=derived_id(event.event_id, "cancel"), occurred_at=event.occurred_at,
            source_node=event.source_node, purchase_key=purchase_key_of_order(event.order_id),
            lines=[PurchaseUnits(line_no=n, sku=line.sku, quantity=line.quantity)
                   for n, line in enumerate(event.lines, start=1)],
        )]
    if isinstance(event, PosReturn) and event.original_receipt_id is not None:
        node = event.original_node or event.source_node
        purchase = (purchase_key_of_order(event.original_receipt_id) if node == ONLINE_NODE
                    else purchase_key_of_sale(node, event.original_receipt_id))
        return [ReturnPurchase(
            event_id=derived_id(event.event_id, "return"), occurred_at=event.occurred_at,
            source_node=event.source_node, purchase_key=purchase, return_event_id=event.event_id,
            lines=[PurchaseUnits(line_no=line.line_no, sku=line.sku, quantity=line.quantity) for line in event.lines],
        )]
    if isinstance(event, CustomerIdentifierLinked):
        known = hashed(event.known_as.kind, normalise(event.known_as.kind, event.known_as.value), key)
        identifier = hashed(event.identifier.kind, normalise(event.identifier.kind, event.identifier.value), key)
        return [LinkIdentifiers(event_id=event.event_id, occurred_at=event.occurred_at,
                                source_node=event.source_node, known=known, identifier=identifier)]
    if isinstance(event, CustomerErasureRequested):
        who = event.identifier
        named_by = None if who is None else hashed(who.kind, normalise(who.kind, who.value), key)
        return [EraseCustomer(event_id=derived_id(event.event_id, "erase"), occurred_at=event.occurred_at,
                              source_node=event.source_node, customer_id=None if named_by else event.customer_id,
                              identifier=named_by, request_event_id=event.event_id, requested_at=event.occurred_at)]
    if isinstance(event, CustomerDeviceSeen):  # shared devices never merge customers: nothing to resolve,
        normalise(event.known_as.kind, event.known_as.value)  # but a bad identifier still goes to the DLQ
    return []


def _identify(
    event: PosSale | OrderPlaced, who: CustomerRef, key: bytes, purchase_key: str,
    channel: Literal["store", "web", "app"], node: str, fulfilled: bool,
) -> IdentifyPurchase:
    identifier = hashed(who.kind, normalise(who.kind, who.value), key)
    bonus = bonus_points_by_line(event.pricing)
    return IdentifyPurchase(
        event_id=derived_id(event.event_id, "identity"), occurred_at=event.occurred_at,
        source_node=event.source_node, identifier=identifier, purchase_event_id=event.event_id,
        purchase_key=purchase_key, channel=channel, node=node, fulfilled=fulfilled,
        lines=[PurchaseLine(line_no=line.line_no, sku=line.sku, quantity=line.quantity, net_cents=line.net_cents,
                            bonus_points=bonus.get(line.line_no, 0))
               for line in event.lines],
    )


def bonus_points_by_line(stamp: PricingStamp | None) -> dict[int, int]:
    """Each line's bonus points: its shares over every promotion the sale or order was stamped with."""
    out: dict[int, int] = {}
    for promotion in stamp.promotions if stamp is not None else ():
        for share in promotion.lines:
            if share.bonus_points:
                out[share.line_no] = out.get(share.line_no, 0) + share.bonus_points
    return out
