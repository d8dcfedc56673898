"""Hold commands on a SKU's log, and the answers the stock authority gives."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from streams.base import Event, Id, NodeId, Record, Sku, UtcDatetime

HoldStatus = Literal["granted", "rejected", "committed", "released", "expired"]
Answer = Literal["granted", "rejected", "committed", "released", "expired", "unknown"]


class PlaceHold(Event):
    """Promise `quantity` units of `sku` at `node` to `order_id` until `expires_at`."""

    type: Literal["hold.place"] = "hold.place"
    hold_id: Id
    order_id: Id
    sku: Sku
    node: NodeId
    quantity: int = Field(gt=0, le=100_000)
    expires_at: UtcDatetime


class CommitHold(Event):
    """The promised units left: sold at the till, shipped, or picked up."""

    type: Literal["hold.commit"] = "hold.commit"
    hold_id: Id
    sku: Sku
    cause: Literal["sale", "shipment", "pickup"]


class ReleaseHold(Event):
    """The promise is off: cancelled, payment failed, another line of the order rejected, no-show."""

    type: Literal["hold.release"] = "hold.release"
    hold_id: Id
    sku: Sku
    reason: str = Field(min_length=1, max_length=200)


class ExpireHolds(Event):
    """Expire every open hold of `sku` whose time to live ended at or before `as_of`."""

    type: Literal["hold.expire"] = "hold.expire"
    sku: Sku
    as_of: UtcDatetime


class Hold(Record):
    """A hold as the authority keeps it: open (`granted`) or resolved, once."""

    hold_id: str
    order_id: str
    node: str
    quantity: int
    expires_at: UtcDatetime
    status: HoldStatus
    reason: str | None = None
    resolved_at: UtcDatetime | None = None


class HoldAnswered(Event):
    """The authority's answer to a hold command: always the hold's state after it."""

    type: Literal["hold.answered"] = "hold.answered"
    event_id: Id  # `<command id>:<hold id>`, so a redelivered command's answer has the same id
    hold_id: Id
    order_id: str
    sku: Sku
    node: str
    quantity: int
    answer: Answer
    reason: str | None = None
    atp_after: int
    command_id: Id
