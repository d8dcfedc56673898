"""Wallet commands, their answers and the loyalty ledger: everything keyed by customer id.

Customer ids are canonical (`cus-...`, domain/identity.py); no raw identifier appears here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from streams.base import Event, Id, Record, Sku, UtcDatetime

CustomerId = Id


class EarnPoints(Event):
    """Credit a purchase line's points (pending until the return window ends), once per lot.

    The wallet prices the line by the central rules at the customer's tier when it applies
    the command (so the tier multiplier is the one the customer has at that moment);
    `points` instead fixes the credit (a goodwill credit from customer service: no spend).
    `bonus_points` (the promotions' bonus for the line, as its sale was stamped) are added to
    the lot as they are, with no tier multiplier: one lot, pending and maturing as a whole, of
    which a return claws back its share.
    """

    type: Literal["loyalty.earn"] = "loyalty.earn"
    customer_id: CustomerId
    lot_id: Id  # the purchase line: `<purchase key>:<line no>`
    sku: Sku | None = None
    quantity: int = Field(default=1, gt=0, le=100_000)
    net_cents: int = Field(default=0, ge=0, le=100_000_000_000)  # qualifying spend of the line
    promotion_multiplier: float = Field(default=1.0, ge=0, le=100)
    points: int | None = Field(default=None, ge=0, le=10_000_000)
    bonus_points: int = Field(default=0, ge=0, le=10_000_000)  # promotions' bonus, on top of the line's points
    return_window_s: int = Field(ge=0)
    lifetime_s: int | None = Field(default=None, gt=0)


class ClawbackPoints(Event):
    """Take back the points of returned units from the line's lot, once per return line.

    `quantity` returned units claw back their share of what the line earned, its points and
    its promotion bonus together (rounded up), and
    take their share of its spend out of the tier window; `points` instead fixes the amount.
    """

    type: Literal["loyalty.clawback"] = "loyalty.clawback"
    customer_id: CustomerId
    return_line_id: Id
    lot_id: Id
    quantity: int | None = Field(default=None, gt=0, le=100_000)
    points: int | None = Field(default=None, gt=0, le=10_000_000)
    net_cents: int = Field(default=0, ge=0, le=100_000_000_000)  # spend the return takes out of the tier window
    purchased_at: UtcDatetime | None = None  # the purchase's time: its day's spend is reduced

    @model_validator(mode="after")
    def _one_measure(self) -> ClawbackPoints:
        if (self.quantity is None) == (self.points is None):
            raise ValueError("give exactly one of quantity (returned units) or points")
        return self


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


class AdvanceWallet(Event):
    """Apply what time alone has done to a wallet by `as_of`: pending lots mature, lots and
    holds expire, spend leaves the 365-day tier window (the tier may lapse).

    Sent by each worker's wallet timer for the wallets it owns when something falls due; the
    wallet decides by `as_of`, so a replay decides the same way, and one sent twice (or after a
    later command already applied the change) posts nothing.
    """

    type: Literal["loyalty.advance"] = "loyalty.advance"
    customer_id: CustomerId
    as_of: UtcDatetime


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


class WalletLot(Record):
    """A lot as it travels with a merge (domain.wallet.Lot, frozen into the contract)."""

    lot_id: Id
    points: int = Field(ge=0)
    earned: int = Field(ge=0)
    quantity: int = Field(gt=0)
    net_cents: int = Field(ge=0)
    earned_at: UtcDatetime
    matures_at: UtcDatetime
    expires_at: UtcDatetime | None = None


class WalletHold(Record):
    request_id: Id
    points: int = Field(gt=0)
    expires_at: UtcDatetime
    status: Literal["granted", "declined", "captured", "voided", "expired"]
    reason: str | None = None
    taken: dict[str, int] = Field(default_factory=dict)
    resolved_at: UtcDatetime | None = None


class MergeWallets(Event):
    """`customer_id` and `other_id` are one customer: the one seen first keeps both wallets.

    Sent by identity resolution when it merges two customers; a wallet that was merged away
    forwards it to the wallet it joined, so merges along a chain end at one survivor.
    """

    type: Literal["loyalty.merge"] = "loyalty.merge"
    customer_id: CustomerId
    customer_since: UtcDatetime
    other_id: CustomerId
    other_since: UtcDatetime


class WalletMovedIn(Event):
    """A merged-away wallet's contents, transferred into the survivor's by ledger entries."""

    type: Literal["loyalty.move_in"] = "loyalty.move_in"
    customer_id: CustomerId
    from_customer: CustomerId
    pending: list[WalletLot] = Field(default_factory=list)
    available: list[WalletLot] = Field(default_factory=list)
    holds: list[WalletHold] = Field(default_factory=list)
    seen: dict[str, UtcDatetime] = Field(default_factory=dict)
    spend: dict[str, int] = Field(default_factory=dict)  # day (ISO) -> qualifying cents
    forgotten_before: UtcDatetime | None = None


class TierChanged(Event):
    """A customer's tier changed; the spend that explains it comes with it."""

    type: Literal["loyalty.tier_changed"] = "loyalty.tier_changed"
    customer_id: CustomerId
    tier: str
    previous: str
    spend_cents: int  # qualifying spend of the 365 days ending `as_of`
    window_start: UtcDatetime
    as_of: UtcDatetime
    threshold_cents: int  # the new tier's threshold
    cause_id: Id  # the command that changed it
    # Where that command sits in the wallet's log (its offset on loyalty.commands): a customer's
    # tier changes in the order the wallet made them, when command times arrive out of order.
    command_offset: int | None = Field(default=None, ge=0)
