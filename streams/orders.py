"""What the web shop and the app publish: orders placed and cancelled."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from streams.base import Cents, Event, Id, NodeId, Quantity, Record, Sku, UtcDatetime
from streams.fulfilment import Method, PromiseClass
from streams.pos import CustomerRef, SaleLine, _unique_line_numbers
from streams.redemptions import PricingStamp

DeliveryMode = Literal["ship_to_address", "pick_up_in_store", "same_day"]


METHOD_OF: dict[DeliveryMode, Method] = {
    "ship_to_address": "ship", "pick_up_in_store": "pickup", "same_day": "same_day",
}


class ShippingAddress(Record):
    postcode: str = Field(min_length=2, max_length=16)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    lat: float | None = Field(default=None, ge=-90, le=90)  # needed when the network chooses the node
    lon: float | None = Field(default=None, ge=-180, le=180)


class OrderPlaced(Event):
    """An online order. `fulfilment_node` pins it to a node (it ships from there, or is picked up
    there); without it the network chooses (sourcing): a delivery then needs `ship_to` with its
    coordinates, a pick-up names the customer's chosen store in `pickup_node`."""

    type: Literal["order.placed"] = "order.placed"
    order_id: Id
    channel: Literal["web", "app"]
    customer: CustomerRef | None = None
    delivery: DeliveryMode
    fulfilment_node: NodeId | None = None
    pickup_node: NodeId | None = None
    promise: PromiseClass | None = None  # None: same_day for same-day delivery, else standard
    ship_to: ShippingAddress | None = None
    lines: list[SaleLine] = Field(min_length=1, max_length=500)
    shipping_cents: Cents = 0
    pricing: PricingStamp | None = None  # what the checkout priced with: book version, promotions, budget holds

    @model_validator(mode="after")
    def _delivery_is_complete(self) -> OrderPlaced:
        _unique_line_numbers(self.lines)
        if self.delivery != "pick_up_in_store" and self.ship_to is None:
            raise ValueError(f"delivery {self.delivery} needs ship_to")
        if self.delivery == "pick_up_in_store" and self.ship_to is not None:
            raise ValueError("pick_up_in_store takes no ship_to")
        if self.fulfilment_node is None:
            if self.delivery == "pick_up_in_store" and self.pickup_node is None:
                raise ValueError("a pick-up order names fulfilment_node (pinned) or pickup_node (the chosen store)")
            if self.ship_to is not None and (self.ship_to.lat is None or self.ship_to.lon is None):
                raise ValueError("an order without fulfilment_node needs ship_to.lat and ship_to.lon to be sourced")
        elif self.pickup_node is not None and self.pickup_node != self.fulfilment_node:
            raise ValueError("pickup_node and fulfilment_node name different stores")
        return self

    @property
    def pinned(self) -> bool:
        return self.fulfilment_node is not None

    @property
    def method(self) -> Method:
        return METHOD_OF[self.delivery]

    @property
    def promise_class(self) -> PromiseClass:
        if self.promise is not None:
            return self.promise
        return "same_day" if self.delivery == "same_day" else "standard"

    @property
    def node(self) -> str | None:
        """The node named by the order: pinned, or the chosen pick-up store."""
        return self.fulfilment_node or self.pickup_node

    @property
    def net_cents(self) -> int:
        return sum(line.net_cents for line in self.lines)


class CancelledLine(Record):
    sku: Sku
    quantity: Quantity


class OrderCancelled(Event):
    """An order (or part of it) cancelled before it left its node(s): the goods go back.

    `fulfilment_node` is informational: the saga releases the order's holds wherever they are."""

    type: Literal["order.cancelled"] = "order.cancelled"
    order_id: Id
    fulfilment_node: NodeId | None = None
    reason: str = Field(min_length=1, max_length=200)
    lines: list[CancelledLine] = Field(min_length=1, max_length=500)


class OrderShipped(Event):
    """The order's remaining lines at `fulfilment_node` left (shipped, or handed to same-day courier).

    A split order ships once per node; without `fulfilment_node`, every node of the order shipped."""

    type: Literal["order.shipped"] = "order.shipped"
    order_id: Id
    fulfilment_node: NodeId | None = None
    carrier: str = Field(default="", max_length=80)


class OrderPickedUp(Event):
    """The customer collected the order's remaining lines at the pick-up store `fulfilment_node`."""

    type: Literal["order.picked_up"] = "order.picked_up"
    order_id: Id
    fulfilment_node: NodeId | None = None


OrderStatus = Literal[
    "accepted", "rejected", "cancelled", "shipped", "picked_up", "no_show", "hold_expired", "stock_conflict",
    "waiting",
]


class OrderLineStatus(Record):
    sku: Sku
    quantity: int = Field(ge=0)  # units still wanted (after cancellations)
    hold: str  # the state of the line's hold as last answered
    node: NodeId | None = None


class OrderStatusChanged(Event):
    """The order saga's one clear answer, and every later change of the order's state.

    `event_id` is `<order id>:<status>`: an order reaches each status at most once, so a
    re-sent answer has the same id and consumers deduplicate it.
    """

    type: Literal["order.status_changed"] = "order.status_changed"
    order_id: Id
    status: OrderStatus
    reason: str = ""
    delivery: DeliveryMode
    fulfilment_node: NodeId | None  # the order's (first) node; None while none is chosen
    lines: list[OrderLineStatus] = Field(default_factory=list, max_length=500)
    placed_at: UtcDatetime
    nodes: list[NodeId] = Field(default_factory=list, max_length=10)  # every node of a split order
