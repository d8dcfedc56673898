"""Fraud signals: the facts the rules judge (re-keyed by the entity they concern) and the alerts.

The router turns ingest events into facts on `fraud.facts`, keyed by the entity a rule groups
by, so one worker sees all of an entity's facts in order: a store's till activity, a receipt's
sale and its returns, a loyalty card's redemptions, an identifier's links. The pricing stage
adds a store's till lines charged below the centre's re-price (`TillVariance`). Identifiers
are hashed before they get here (`idh-...`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from streams.base import Cents, Event, Id, NodeId, Quantity, Record, Sku, UtcDatetime

TillActivityKind = Literal["sale", "void", "price_override", "no_receipt_refund", "refund"]
Severity = Literal["low", "medium", "high"]
EntityKind = Literal["customer", "identifier", "cashier", "store", "device"]


class FactLine(Record):
    line_no: int = Field(ge=1, le=1000)
    sku: Sku
    quantity: Quantity
    cents: Cents  # what the line was paid (a sale) or refunded (a return), in total


class TillActivity(Event):
    """One thing a cashier did at a till; key `store:<store>` (a store's norm is its cashiers')."""

    type: Literal["fraud.till"] = "fraud.till"
    store: NodeId
    cashier_id: Id
    activity: TillActivityKind
    document_id: Id  # the receipt or return


class PurchaseSeen(Event):
    """A till sale or an online order, line by line; key `receipt:<purchase key>`."""

    type: Literal["fraud.sold"] = "fraud.sold"
    purchase_key: Id  # `<store>/<receipt id>` or `order/<order id>`
    store: NodeId
    lines: list[FactLine] = Field(min_length=1, max_length=500)


class ReturnSeen(Event):
    """A return citing a receipt or an order; key `receipt:<purchase key>` (meets the sale there)."""

    type: Literal["fraud.returned"] = "fraud.returned"
    purchase_key: Id
    return_id: Id
    store: NodeId
    cashier_id: Id
    lines: list[FactLine] = Field(min_length=1, max_length=500)


# Why a till line was charged other than the centre's re-price: as `PricingVariance.cause`.
VarianceCause = Literal["price_override", "stale_snapshot", "unstamped", "unexplained"]


class TillVariance(Event):
    """A till line charged less than the centre's re-price of it (a `pricing.variance`), with
    the cause the pricing stage found; key `variance:<store>`. A line priced with a promotion
    the centre agrees with has no variance, so never gets here."""

    type: Literal["fraud.till_variance"] = "fraud.till_variance"
    variance_id: Id  # the pricing.variance's event_id
    store: NodeId
    terminal_id: Id | None = None
    cashier_id: Id | None = None
    receipt_id: Id
    line_no: int = Field(ge=1, le=1000)
    sku: Sku
    quantity: int
    charged_cents: int  # the line's net as charged
    expected_cents: int  # the line's net as the centre prices it
    charged_unit_price_cents: int
    expected_unit_price_cents: int
    till_snapshot_version: int | None  # None: the sale carried no pricing stamp
    centre_snapshot_version: int
    cause: VarianceCause


class RedemptionSeen(Event):
    """Loyalty points tendered at a till by a card (hashed); key `card:<identifier>`."""

    type: Literal["fraud.redemption"] = "fraud.redemption"
    identifier: Id  # idh-...: the card or phone the till knew the customer by
    store: NodeId
    receipt_id: Id
    points: int = Field(ge=1)


class LinkSeen(Event):
    """An identifier (hashed) was linked to, or a device (hashed) seen with, an account known by
    `known` (hashed); key `identifier:<id>`."""

    type: Literal["fraud.link"] = "fraud.link"
    identifier: Id
    identifier_kind: str = Field(min_length=1, max_length=40)
    known: Id


class FraudTick(Event):
    """The router's clock on one partition of `fraud.facts` (sent to it explicitly, every few
    seconds): carries that partition's append time forward when no fact does, so returns waiting
    for a late sale are judged once their grace is over; key `tick:<partition>`."""

    type: Literal["fraud.tick"] = "fraud.tick"
    partition: int = Field(ge=0, le=10_000)


class FraudAlert(Event):
    """A rule saw a pattern: who (the entity), what (evidence), when (the window), how bad (severity).

    `alert_id` derives from the rule, the entity and the pattern's first event, so a redelivered or
    replayed fact raises the same alert again, never a second one: consumers deduplicate on it.
    """

    type: Literal["fraud.alert"] = "fraud.alert"
    alert_id: Id
    rule: str = Field(min_length=1, max_length=60)
    severity: Severity
    entity_kind: EntityKind
    entity_id: str = Field(min_length=1, max_length=200)
    window_start: UtcDatetime
    window_end: UtcDatetime
    summary: str = Field(min_length=1, max_length=500)
    evidence: list[dict[str, Any]] = Field(min_length=1, max_length=200)


FraudFact = TillActivity | PurchaseSeen | ReturnSeen | TillVariance | RedemptionSeen | LinkSeen | FraudTick


def entity_key(fact: Event) -> str:
    """The key a fact travels under on `fraud.facts`: the entity its rule groups by."""
    match fact:
        case TillActivity():
            return f"store:{fact.store}"
        case PurchaseSeen() | ReturnSeen():
            return f"receipt:{fact.purchase_key}"
        case TillVariance():
            return f"variance:{fact.store}"
        case RedemptionSeen():
            return f"card:{fact.identifier}"
        case LinkSeen():
            return f"identifier:{fact.identifier}"
        case FraudTick():
            return f"tick:{fact.partition}"
    raise ValueError(f"{type(fact).__name__} is not a fraud fact")
