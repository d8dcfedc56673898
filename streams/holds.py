"""Hold commands on a SKU's log, and the answers the stock authority gives."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

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


class PlaceHolds(Event):
    """Consecutive places of one SKU as one record of its log, in their order.

    The router batches the places of a SKU it reads together (a checkout rush on one item):
    the owner then loads and saves the SKU and publishes its availability once for all of
    them. Each place is still decided, answered and deduplicated (by hold id) on its own.
    """

    type: Literal["hold.place_batch"] = "hold.place_batch"
    sku: Sku
    holds: list[PlaceHold] = Field(min_length=2, max_length=200)

    @model_validator(mode="after")
    def _one_sku(self) -> PlaceHolds:
        if any(place.sku != self.sku for place in self.holds):
            raise ValueError("every place of a batch is for the batch's sku")
        return self


class CommitHold(Event):
    """The promised units left: sold at the till, shipped, or picked up.

    Goods that left are gone whatever became of the promise: when the hold is no longer open
    (expired, released, rejected, unknown) and `node` and `quantity` are given, the authority
    takes those units out of on hand directly (an `unheld_commit` entry), once per `event_id`,
    and answers with the hold's own final state.
    """

    type: Literal["hold.commit"] = "hold.commit"
    hold_id: Id
    sku: Sku
    cause: Literal["sale", "shipment", "pickup"]
    node: NodeId | None = None
    quantity: int | None = Field(default=None, gt=0, le=100_000)

    @model_validator(mode="after")
    def _both_or_neither(self) -> CommitHold:
        if (self.node is None) != (self.quantity is None):
            raise ValueError("give node and quantity together, or neither")
        return self


class ReleaseHold(Event):
    """The promise is off: cancelled, payment failed, another line of the order rejected, no-show."""

    type: Literal["hold.release"] = "hold.release"
    hold_id: Id
    sku: Sku
    reason: str = Field(min_length=1, max_length=200)
    # Release only this many units (a partly cancelled order line); None releases the hold.
    quantity: int | None = Field(default=None, gt=0, le=100_000)


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
    # The SKU-log offset whose record resolved it (expiry and store-sale conflicts included), so a
    # redelivered record re-sends the answers it caused, not only the one about its own hold.
    resolved_offset: int | None = None


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
