"""What store tills publish: sales, returns and voids."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from streams.base import Cents, Event, Id, NodeId, Quantity, Record, Sku
from streams.redemptions import PricingStamp

IdentifierKind = Literal["phone", "email", "loyalty_card", "app_account", "account_id"]
TenderMethod = Literal["cash", "card", "gift_card", "voucher", "loyalty_points"]


class CustomerRef(Record):
    """An identifier a channel knows a customer by, before identity resolution."""

    kind: IdentifierKind
    value: str = Field(min_length=3, max_length=254)


class SaleLine(Record):
    line_no: int = Field(ge=1, le=1000)
    sku: Sku
    quantity: Quantity
    unit_price_cents: Cents
    discount_cents: Cents = 0
    price_overridden: bool = False  # the cashier keyed a price over the scanned one

    @model_validator(mode="after")
    def _discount_within_line(self) -> SaleLine:
        if self.discount_cents > self.quantity * self.unit_price_cents:
            raise ValueError("discount_cents exceeds the line's gross amount")
        return self

    @property
    def net_cents(self) -> int:
        return self.quantity * self.unit_price_cents - self.discount_cents


class Tender(Record):
    """How part of a receipt was paid; loyalty points carry the points redeemed."""

    method: TenderMethod
    amount_cents: Cents
    points: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _points_only_for_loyalty(self) -> Tender:
        if (self.method == "loyalty_points") != (self.points is not None):
            raise ValueError("points are given exactly when the method is loyalty_points")
        return self


def _unique_line_numbers(lines: list) -> None:  # type: ignore[type-arg]
    numbers = [line.line_no for line in lines]
    if len(numbers) != len(set(numbers)):
        raise ValueError("line_no must be unique within an event")


class PosSale(Event):
    """A completed till sale; the tenders pay the net total exactly."""

    type: Literal["pos.sale"] = "pos.sale"
    receipt_id: Id
    terminal_id: Id
    cashier_id: Id
    customer: CustomerRef | None = None
    lines: list[SaleLine] = Field(min_length=1, max_length=500)
    tenders: list[Tender] = Field(min_length=1, max_length=20)
    pricing: PricingStamp | None = None  # what the till priced with: book version, promotions, budget uses

    @model_validator(mode="after")
    def _balanced(self) -> PosSale:
        _unique_line_numbers(self.lines)
        if sum(t.amount_cents for t in self.tenders) != self.net_cents:
            raise ValueError("tenders do not add up to the receipt's net total")
        return self

    @property
    def net_cents(self) -> int:
        return sum(line.net_cents for line in self.lines)


class ReturnLine(Record):
    line_no: int = Field(ge=1, le=1000)
    sku: Sku
    quantity: Quantity
    refund_cents: Cents
    condition: Literal["sellable", "damaged"]


class PosReturn(Event):
    """Goods brought back to a till, with or without the original receipt, at any store."""

    type: Literal["pos.return"] = "pos.return"
    return_id: Id
    terminal_id: Id
    cashier_id: Id
    original_receipt_id: Id | None = None
    original_node: NodeId | None = None
    customer: CustomerRef | None = None
    refund_method: TenderMethod
    lines: list[ReturnLine] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _lines(self) -> PosReturn:
        _unique_line_numbers(self.lines)
        return self


class VoidLine(Record):
    sku: Sku
    quantity: Quantity


class PosVoid(Event):
    """A completed receipt cancelled at the till (post-void): its goods go back on the shelf."""

    type: Literal["pos.void"] = "pos.void"
    receipt_id: Id
    terminal_id: Id
    cashier_id: Id
    reason: str = Field(min_length=1, max_length=200)
    lines: list[VoidLine] = Field(min_length=1, max_length=500)
