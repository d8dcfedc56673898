"""Wallet commands, their answers and the loyalty ledger: everything keyed by customer id.

Customer ids are canonical (`cus-...`, domain/identity.py); no raw identifier appears here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from streams.base import Event, Id, Record, UtcDatetime

CustomerId = Id


class EarnPoints(Event):
    """Credit a purchase line's points (pending until the return window ends), once per lot."""

    type: Literal["loyalty.earn"] = "loyalty.earn"
    customer_id: CustomerId
    lot_id: Id  # the purchase line: `<event id>:<line no>`
    points: int = Field(ge=0, le=10_000_000)
    return_window_s: int = Field(ge=0)
    lifetime_s: int | None = Field(default=None, gt=0)


class ClawbackPoints(Event):
    """Take back the points of a returned line from its lot, once per return line."""

    type: Literal["loyalty.clawback"] = "loyalty.clawback"
    customer_id: CustomerId
    return_line_id: Id
    lot_id: Id
    points: int = Field(gt=0, le=10_000_000)


class HoldPoints(Event):
    """A till or checkout asks to reserve points for a transaction (idempotent by request id)."""

    type: Literal["loyalty.hold"] = "loyalty.hold"
    customer_id: CustomerId
    request_id: Id
    points: int = Field(gt=0, le=10_000_000)
    expires_at: UtcDatetime
    client: str = Field(min_length=1, max_length=80)  # which till or checkout asked


class CapturePoints(Event):
    """The sale completed: the held points are redeemed."""

    type: Literal["loyalty.capture"] = "loyalty.capture"
    customer_id: CustomerId
    request_id: Id


class VoidPoints(Event):
    """The sale was abandoned: the held points go back."""

    type: Literal["loyalty.void"] = "loyalty.void"
    customer_id: CustomerId
    request_id: Id
    reason: str = Field(min_length=1, max_length=200)


class PointsAnswered(Event):
    """The wallet's answer to a hold, capture or void: the hold's state after it."""

    type: Literal["loyalty.answered"] = "loyalty.answered"
    customer_id: CustomerId
    request_id: Id
    command_id: Id
    status: Literal["granted", "declined", "captured", "voided", "expired", "unknown"]
    points: int
    reason: str | None = None
    available_after: int


class LedgerLine(Record):
    entry_id: str
    debit: str
    credit: str
    points: int
    cause: str
    cause_id: str


class PointsPosted(Event):
    """Ledger entries one command posted to a wallet, with the balances after them."""

    type: Literal["loyalty.posted"] = "loyalty.posted"
    customer_id: CustomerId
    command_id: Id
    entries: list[LedgerLine] = Field(min_length=1)
    pending: int
    available: int
    held: int
