"""What the web shop and the app publish: orders placed and cancelled."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from streams.base import Cents, Event, Id, NodeId, Quantity, Record, Sku, UtcDatetime
from streams.pos import CustomerRef, SaleLine, _unique_line_numbers

DeliveryMode = Literal["ship_to_address", "pick_up_in_store", "same_day"]


class ShippingAddress(Record):
    postcode: str = Field(min_length=2, max_length=16)
    country: str = Field(pattern=r"^[A-Z]{2}$")


class OrderPlaced(Event):
    """An online order; `fulfilment_node` ships it, or is the store it is picked up from."""

    type: Literal["order.placed"] = "order.placed"
    order_id: Id
    channel: Literal["web", "app"]
    customer: CustomerRef | None = None
    delivery: DeliveryMode
    fulfilment_node: NodeId
    ship_to: ShippingAddress | None = None
    lines: list[SaleLine] = Field(min_length=1, max_length=500)
    shipping_cents: Cents = 0

    @model_validator(mode="after")
    def _delivery_is_complete(self) -> OrderPlaced:
        _unique_line_numbers(self.lines)
        if self.delivery != "pick_up_in_store" and self.ship_to is None:
            raise ValueError(f"delivery {self.delivery} needs ship_to")
        if self.delivery == "pick_up_in_store" and self.ship_to is not None:
            raise ValueError("pick_up_in_store takes no ship_to")
        return self

    @property
    def net_cents(self) -> int:
        return sum(line.net_cents for line in self.lines)


class CancelledLine(Record):
    sku: Sku
    quantity: Quantity


class OrderCancelled(Event):
    """An order (or part of it) cancelled before it left `fulfilment_node`: the goods go back."""

    type: Literal["order.cancelled"] = "order.cancelled"
    order_id: Id
    fulfilment_node: NodeId
    reason: str = Field(min_length=1, max_length=200)
    lines: list[CancelledLine] = Field(min_length=1, max_length=500)


class OrderShipped(Event):
    """The order's remaining lines left `fulfilment_node` (shipped, or handed to same-day courier)."""

    type: Literal["order.shipped"] = "order.shipped"
    order_id: Id
    fulfilment_node: NodeId
    carrier: str = Field(default="", max_length=80)


class OrderPickedUp(Event):
    """The customer collected the order's remaining lines at the pick-up store `fulfilment_node`."""

    type: Literal["order.picked_up"] = "order.picked_up"
    order_id: Id
    fulfilment_node: NodeId


OrderStatus = Literal[
    "accepted", "rejected", "cancelled", "shipped", "picked_up", "no_show", "hold_expired", "stock_conflict"
]


class OrderLineStatus(Record):
    sku: Sku
    quantity: int = Field(ge=0)  # units still wanted (after cancellations)
    hold: str  # the state of the line's hold as last answered


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
    fulfilment_node: NodeId
    lines: list[OrderLineStatus] = Field(default_factory=list, max_length=500)
    placed_at: UtcDatetime
