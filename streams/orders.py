"""What the web shop and the app publish: orders placed and cancelled."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from streams.base import Cents, Event, Id, NodeId, Quantity, Record, Sku
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
