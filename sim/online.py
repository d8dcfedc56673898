"""The web shop and the app: orders placed, cancelled, then shipped, delivered same day or picked up.

An order holds its units at its fulfilment node (the pipeline's order saga does the same); a
cancellation releases them, and the shipment or pick-up commits what is left of the order.
"""

from __future__ import annotations

from typing import Literal

from sim.network import Customer
from sim.state import DayState, Emission, OpenOrder, take
from sim.tills import sale_lines
from streams.customers import CustomerDeviceSeen
from streams.orders import (
    CancelledLine,
    DeliveryMode,
    OrderCancelled,
    OrderPickedUp,
    OrderPlaced,
    OrderShipped,
    ShippingAddress,
)
from streams.topics import CUSTOMER_IDENTIFIERS, WEB_ORDERS

DELIVERIES: tuple[DeliveryMode, ...] = ("ship_to_address", "pick_up_in_store", "same_day")
DELIVERY_WEIGHTS = (60, 25, 15)
SHIPPING_CENTS: dict[DeliveryMode, int] = {"ship_to_address": 495, "pick_up_in_store": 0, "same_day": 795}
CANCEL_REASONS = ("customer request", "payment failed", "found it cheaper", "delivery too slow")
CARRIERS: dict[DeliveryMode, tuple[str, ...]] = {"ship_to_address": ("postnl", "dhl"), "same_day": ("courier",)}


def devices_of(customer: Customer) -> tuple[str, ...]:
    """The devices a customer signs in on: their phone and laptop, and every second household's
    tablet is shared by two customers (fewer accounts than any fraud threshold)."""
    own = (f"dev-{customer.number:07d}-phone", f"dev-{customer.number:07d}-laptop")
    return (*own, f"tab-{customer.number // 2:07d}-shared") if customer.number % 4 < 2 else own


def device_seen(day: DayState) -> Emission | None:
    """A customer signs in on one of their devices: the app on their phone (when they have an app
    account), the web shop on the laptop and the tablet. One device, one channel, one account."""
    rng = day.rng
    customer = day.network.customers[rng.randrange(len(day.network.customers))]
    device = rng.choice(devices_of(customer))
    channel = "app" if device.endswith("-phone") and customer.knows("app_account") else "web"
    known = customer.ref("app_account") if channel == "app" else customer.ref("email", "account_id")
    event_id, at = day.stamp()
    event = CustomerDeviceSeen(event_id=event_id, occurred_at=at, source_node=channel, known_as=known,
                               device_id=device, channel=channel)
    return CUSTOMER_IDENTIFIERS, CUSTOMER_IDENTIFIERS.key_for(event), event


def order_placed(day: DayState) -> Emission | None:
    """A customer's order, priced and stamped at checkout (node: the channel), fulfilled by the first
    node that can serve every line."""
    rng = day.rng
    customer = day.network.customers[rng.randrange(len(day.network.customers))]
    delivery = rng.choices(DELIVERIES, weights=DELIVERY_WEIGHTS)[0]
    wanted = _wanted(day)
    node = _fulfilment_node(day, customer, delivery, wanted)
    if node is None:
        return None
    channel: Literal["web", "app"] = "app" if customer.knows("app_account") and rng.random() < 0.5 else "web"
    event_id, at = day.stamp()
    priced, stamp = day.pricing.checkout(f"or-{event_id}", wanted, at, channel, channel, SHIPPING_CENTS[delivery])
    lines = sale_lines(day, priced, wanted, "")
    event = OrderPlaced(
        event_id=event_id,
        occurred_at=at,
        source_node=channel,
        order_id=f"or-{event_id}",
        channel=channel,
        customer=customer.ref("app_account" if channel == "app" else "email"),
        delivery=delivery,
        fulfilment_node=node,
        ship_to=None if delivery == "pick_up_in_store" else ShippingAddress(
            postcode=customer.postcode, country="NL", lat=customer.lat, lon=customer.lon),
        lines=lines,
        shipping_cents=priced.shipping_cents,
        pricing=stamp,
    )
    for sku, quantity in wanted:
        day.books.hold(sku, node, quantity)
    day.orders.append(OpenOrder(event.order_id, channel, node, delivery, dict(wanted)))
    return WEB_ORDERS, WEB_ORDERS.key_for(event), event


def _wanted(day: DayState) -> list[tuple[str, int]]:
    """Distinct SKUs by popularity, with quantities."""
    wanted: dict[str, int] = {}
    for _ in range(day.rng.choice((1, 1, 2, 2, 3, 4))):
        wanted.setdefault(day.network.pick_item(day.rng).sku, day.rng.choice((1, 1, 2)))
    return list(wanted.items())


def _fulfilment_node(
    day: DayState, customer: Customer, delivery: DeliveryMode, wanted: list[tuple[str, int]]
) -> str | None:
    """Pick-up is at the home store; deliveries try warehouses and the home store in turn."""
    warehouses = [node.node_id for node in day.network.nearest_warehouses(customer.lat, customer.lon)]
    match delivery:
        case "pick_up_in_store":
            candidates = [customer.home_store]
        case "same_day":
            candidates = [customer.home_store, *warehouses]
        case _:
            candidates = [*warehouses, customer.home_store]
    for node in candidates:
        if all(day.books.available(sku, node) >= quantity for sku, quantity in wanted):
            return node
    return None


def order_cancelled(day: DayState) -> Emission | None:
    """An open order cancelled whole or in part before it left its node: its units are released.

    A partial cancellation leaves the order open with the units it still wants."""
    if not day.orders:
        return None
    rng = day.rng
    index = rng.randrange(len(day.orders))
    order = day.orders[index]
    lines = [(sku, quantity) for sku, quantity in order.lines.items() if quantity > 0]
    if rng.random() < 0.4:  # a partial cancellation: fewer lines, maybe fewer units
        lines = [(sku, rng.randint(1, quantity)) for sku, quantity in rng.sample(lines, rng.randint(1, len(lines)))]
    event_id, at = day.stamp()
    event = OrderCancelled(
        event_id=event_id,
        occurred_at=at,
        source_node=order.channel,
        order_id=order.order_id,
        fulfilment_node=order.node,
        reason=rng.choice(CANCEL_REASONS),
        lines=[CancelledLine(sku=sku, quantity=quantity) for sku, quantity in lines],
    )
    for sku, quantity in lines:
        day.books.release(sku, order.node, quantity)
        order.lines[sku] -= quantity
    if not any(order.lines.values()):
        take(day.orders, index)
    return WEB_ORDERS, WEB_ORDERS.key_for(event), event


def order_fulfilled(day: DayState) -> Emission | None:
    """An open order leaves its node: shipped (to an address or by same-day courier), or picked
    up at its store. What is left of it is committed: on hand and held both fall."""
    if not day.orders:
        return None
    rng = day.rng
    order = take(day.orders, rng.randrange(len(day.orders)))
    event_id, at = day.stamp()
    event: OrderShipped | OrderPickedUp
    if order.delivery == "pick_up_in_store":
        event = OrderPickedUp(
            event_id=event_id, occurred_at=at, source_node=order.node, order_id=order.order_id,
            fulfilment_node=order.node,
        )
    else:
        event = OrderShipped(
            event_id=event_id, occurred_at=at, source_node=order.node, order_id=order.order_id,
            fulfilment_node=order.node, carrier=rng.choice(CARRIERS[order.delivery]),
        )
    for sku, quantity in order.lines.items():
        day.books.commit(sku, order.node, quantity)
    return WEB_ORDERS, WEB_ORDERS.key_for(event), event
