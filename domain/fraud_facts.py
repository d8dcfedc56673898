"""Which fraud facts an ingest event or a pricing variance gives, each keyed by the entity its
rule groups by. Pure.

Identifiers are hashed here (with the same key as identity resolution), so the facts, the
rules' state and the alerts never hold a raw phone number, email or card number. A fact's id
derives from its event's id, so a re-routed event gives the same facts again.

`facts_for` is the router's (ingest events); `facts_for_variance` the pricing stage's: it
re-prices every till sale against the book, and a line charged below the centre's price
becomes a `TillVariance` for `till_price_below_central`.
"""

from __future__ import annotations

from domain.identity import (
    ONLINE_NODE,
    InvalidIdentifierError,
    hashed,
    hashed_device,
    normalise,
    purchase_key_of_order,
    purchase_key_of_sale,
)
from domain.ids import derived_id
from streams.base import Event
from streams.customers import CustomerDeviceSeen, CustomerIdentifierLinked
from streams.fraud import (
    FactLine,
    LinkSeen,
    PurchaseSeen,
    RedemptionSeen,
    ReturnSeen,
    TillActivity,
    TillVariance,
)
from streams.orders import OrderPlaced
from streams.pos import CustomerRef, PosReturn, PosSale, PosVoid
from streams.redemptions import PricingVariance


def facts_for(event: Event, key: bytes) -> list[Event]:
    match event:
        case PosSale():
            return _sale(event, key)
        case PosReturn():
            return _return(event)
        case PosVoid():
            return [_till(event, event.cashier_id, "void", event.receipt_id)]
        case OrderPlaced():
            return [PurchaseSeen(
                event_id=derived_id(event.event_id, "fraud-sold"), occurred_at=event.occurred_at,
                source_node=event.source_node, purchase_key=purchase_key_of_order(event.order_id),
                store=event.node or event.channel, lines=[FactLine(line_no=line.line_no, sku=line.sku,
                                                             quantity=line.quantity, cents=line.net_cents)
                                                    for line in event.lines],
            )]
        case CustomerIdentifierLinked():
            identifier, known = _hash(event.identifier, key), _hash(event.known_as, key)
            if identifier is None or known is None:
                return []  # the router dead-letters the record for its identifier
            return [LinkSeen(event_id=derived_id(event.event_id, "fraud-link"), occurred_at=event.occurred_at,
                             source_node=event.source_node, identifier=identifier,
                             identifier_kind=event.identifier.kind, known=known)]
        case CustomerDeviceSeen():
            known = _hash(event.known_as, key)
            if known is None:
                return []  # the router dead-letters the record for its identifier
            return [LinkSeen(event_id=derived_id(event.event_id, "fraud-device"), occurred_at=event.occurred_at,
                             source_node=event.source_node, identifier=hashed_device(event.device_id, key),
                             identifier_kind="device", known=known)]
    return []


def facts_for_variance(variance: PricingVariance) -> list[Event]:
    """The fraud facts of a `pricing.variance`: a line charged less than the centre's price is a
    `TillVariance` (key `variance:<store>`, publish it to `fraud.facts`); a line charged more
    costs the chain nothing and gives none. Its id derives from the variance's, so a variance
    published again gives the same fact, which the rule has seen."""
    if variance.charged_cents >= variance.expected_cents:
        return []
    return [TillVariance(
        event_id=derived_id(variance.event_id, "fraud-variance"), occurred_at=variance.occurred_at,
        source_node=variance.store, variance_id=variance.event_id, store=variance.store,
        terminal_id=variance.terminal_id, cashier_id=variance.cashier_id, receipt_id=variance.receipt_id,
        line_no=variance.line_no, sku=variance.sku, quantity=variance.quantity,
        charged_cents=variance.charged_cents, expected_cents=variance.expected_cents,
        charged_unit_price_cents=variance.charged_unit_price_cents,
        expected_unit_price_cents=variance.expected_unit_price_cents,
        till_snapshot_version=variance.till_snapshot_version,
        centre_snapshot_version=variance.centre_snapshot_version, cause=variance.cause,
    )]


def _sale(event: PosSale, key: bytes) -> list[Event]:
    store = event.source_node
    out: list[Event] = [_till(event, event.cashier_id, "sale", event.receipt_id)]
    if any(line.price_overridden for line in event.lines):
        out.append(_till(event, event.cashier_id, "price_override", event.receipt_id))
    out.append(PurchaseSeen(
        event_id=derived_id(event.event_id, "fraud-sold"), occurred_at=event.occurred_at, source_node=store,
        purchase_key=purchase_key_of_sale(store, event.receipt_id), store=store,
        lines=[FactLine(line_no=line.line_no, sku=line.sku, quantity=line.quantity, cents=line.net_cents)
               for line in event.lines],
    ))
    points = sum(t.points or 0 for t in event.tenders if t.method == "loyalty_points")
    identifier = _hash(event.customer, key) if event.customer is not None else None
    if points and identifier is not None:
        out.append(RedemptionSeen(
            event_id=derived_id(event.event_id, "fraud-redeem"), occurred_at=event.occurred_at, source_node=store,
            identifier=identifier, store=store, receipt_id=event.receipt_id, points=points,
        ))
    return out


def _return(event: PosReturn) -> list[Event]:
    receipt = event.original_receipt_id
    kind = "no_receipt_refund" if receipt is None else "refund"
    out: list[Event] = [_till(event, event.cashier_id, kind, event.return_id)]
    if receipt is not None:
        node = event.original_node or event.source_node
        purchase = purchase_key_of_order(receipt) if node == ONLINE_NODE else purchase_key_of_sale(node, receipt)
        out.append(ReturnSeen(
            event_id=derived_id(event.event_id, "fraud-returned"), occurred_at=event.occurred_at,
            source_node=event.source_node, purchase_key=purchase, return_id=event.return_id,
            store=event.source_node, cashier_id=event.cashier_id,
            lines=[FactLine(line_no=line.line_no, sku=line.sku, quantity=line.quantity, cents=line.refund_cents)
                   for line in event.lines],
        ))
    return out


def _till(event: PosSale | PosReturn | PosVoid, cashier: str, activity: str, document: str) -> TillActivity:
    return TillActivity(
        event_id=derived_id(event.event_id, f"fraud-{activity}"), occurred_at=event.occurred_at,
        source_node=event.source_node, store=event.source_node, cashier_id=cashier,
        activity=activity,  # type: ignore[arg-type]
        document_id=document,
    )


def _hash(ref: CustomerRef, key: bytes) -> str | None:
    try:
        return hashed(ref.kind, normalise(ref.kind, ref.value), key)
    except InvalidIdentifierError:
        return None
