"""What stores and warehouses publish about goods: receipts, counts, damage and transfers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from streams.base import Event, Id, NodeId, Quantity, Record, Sku, UtcDatetime


class StockLine(Record):
    sku: Sku
    quantity: Quantity


class CountLine(Record):
    sku: Sku
    counted: int = Field(ge=0, le=10_000_000)


class StockReceived(Event):
    """Goods booked in at `source_node` from a supplier delivery."""

    type: Literal["stock.received"] = "stock.received"
    delivery_id: Id
    supplier_id: Id
    lines: list[StockLine] = Field(min_length=1, max_length=2000)


class StockCounted(Event):
    """A cycle count at `source_node`: the counted quantity replaces on hand."""

    type: Literal["stock.counted"] = "stock.counted"
    count_id: Id
    lines: list[CountLine] = Field(min_length=1, max_length=2000)


class StockDamaged(Event):
    """Sellable goods at `source_node` found damaged: out of on hand, into damaged."""

    type: Literal["stock.damaged"] = "stock.damaged"
    report_id: Id
    reason: str = Field(min_length=1, max_length=200)
    lines: list[StockLine] = Field(min_length=1, max_length=2000)


class TransferShipped(Event):
    """Goods left `from_node` for `to_node`, due at `eta`."""

    type: Literal["transfer.shipped"] = "transfer.shipped"
    transfer_id: Id
    from_node: NodeId
    to_node: NodeId
    eta: UtcDatetime
    lines: list[StockLine] = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _distinct_nodes(self) -> TransferShipped:
        if self.from_node == self.to_node:
            raise ValueError("a transfer needs two different nodes")
        return self


class ReceivedLine(Record):
    sku: Sku
    quantity_expected: int = Field(ge=0, le=100_000)
    quantity_received: int = Field(ge=0, le=100_000)


class TransferReceived(Event):
    """Goods of a transfer booked in at `to_node`; received may differ from expected."""

    type: Literal["transfer.received"] = "transfer.received"
    transfer_id: Id
    from_node: NodeId
    to_node: NodeId
    lines: list[ReceivedLine] = Field(min_length=1, max_length=2000)
