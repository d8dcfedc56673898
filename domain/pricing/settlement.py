"""Settling a purchase's promotions: budget committed with the sale, given back with returns. Pure.

State per purchase (receipt or order id): the stamped sale, the units returned so far, the
budget given back so far, and the ids of commands applied (a redelivered one changes nothing
and sends again what it sent, under the same ids, which the stock authority deduplicates).

- A sale's online budget uses commit their holds (with node and quantity, so a hold expired
  before the sale arrived still books what the customer got: an `unheld_commit`, visible).
- An offline use spends from its store's lease: first the units leave the account (an unheld
  commit under the purchase's own id), then the same amount of the lease hold is released.
  In that order the account is never promised more than it holds, not even between the two.
- A return, void or cancellation gives back each promotion's discount in proportion to the
  units returned (rounded down; the last return gives back the rest), as a receipt into the
  money accounts; the count and coupon uses come back once nothing of the promotion's lines is left.
- A return that arrives before its sale waits in the state for it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from streams.base import Event, Record
from streams.holds import CommitHold, ReleaseHold
from streams.inventory import StockMovement
from streams.redemptions import BudgetUse, PromotionUsed, RedeemPromotions, ReturnRedemption, StampedPromotion

SEEN_KEPT = 200


class GivenBack(Record):
    """What one return, void or cancellation gave back, per promotion: (cents, points, use came back)."""

    promotions: dict[str, tuple[int, int, bool]] = Field(default_factory=dict)


class Redemption(Record):
    sale: RedeemPromotions | None = None
    backs: dict[str, GivenBack] = Field(default_factory=dict)  # by command id: re-sent if redelivered
    returned: dict[int, int] = Field(default_factory=dict)  # line_no -> units returned
    given_back: dict[str, int] = Field(default_factory=dict)  # promotion id -> cents given back
    uses_back: list[str] = Field(default_factory=list)  # promotions whose use came back
    waiting: list[ReturnRedemption] = Field(default_factory=list)
    seen: list[str] = Field(default_factory=list)


Command = RedeemPromotions | ReturnRedemption


def settle(state: Redemption | None, command: Command) -> tuple[Redemption | None, list[Event]]:
    """The purchase's state after `command`, and the budget commands and uses it causes."""
    state = state or Redemption()
    if command.event_id in state.seen:
        return state, _again(state, command)
    seen = [*state.seen, command.event_id][-SEEN_KEPT:]
    if isinstance(command, RedeemPromotions):
        if command.pricing is None or not command.pricing.promotions:
            return (state.model_copy(update={"seen": seen}) if state.waiting else None), []
        state = state.model_copy(update={"sale": command, "seen": seen})
        out = _redeemed(command)
        waiting, state = state.waiting, state.model_copy(update={"waiting": []})
        for back in waiting:
            state, more = _give_back(state, back)
            out += more
        return state, out
    if state.sale is None:
        return state.model_copy(update={"waiting": [*state.waiting, command], "seen": seen}), []
    return _give_back(state.model_copy(update={"seen": seen}), command)


def _again(state: Redemption, command: Command) -> list[Event]:
    """What the command sent the first time, under the same ids (its sends may have been lost)."""
    if isinstance(command, RedeemPromotions):
        return _redeemed(command) if state.sale is not None and state.sale.event_id == command.event_id else []
    given = state.backs.get(command.event_id)
    return [] if given is None or state.sale is None else _back_outputs(state.sale, command, given)


def _redeemed(sale: RedeemPromotions) -> list[Event]:
    assert sale.pricing is not None
    out: list[Event] = []
    for promo in sale.pricing.promotions:
        for use in promo.budget:
            out += _spend(sale, use)
        out.append(_used(sale, promo, "redeemed", promo.discount_cents, promo.bonus_points, 1, sale.event_id))
    return out


def _spend(sale: RedeemPromotions, use: BudgetUse) -> list[Event]:
    common = {"occurred_at": sale.occurred_at, "source_node": sale.node, "sku": use.account}
    if use.hold_id is not None:
        return [CommitHold(event_id=f"{sale.event_id}:{use.account}:commit", hold_id=use.hold_id, cause="sale",
                           node=use.node, quantity=use.amount, **common)]
    assert use.lease_id is not None
    return [
        CommitHold(event_id=f"{sale.event_id}:{use.account}:spend", hold_id=f"{sale.purchase_key}/{use.account}",
                   cause="sale", node=use.node, quantity=use.amount, **common),
        ReleaseHold(event_id=f"{sale.event_id}:{use.account}:lease", hold_id=use.lease_id, quantity=use.amount,
                    reason=f"spent offline by {sale.purchase_key}", **common),
    ]


def _give_back(state: Redemption, back: ReturnRedemption) -> tuple[Redemption, list[Event]]:
    sale = state.sale
    assert sale is not None and sale.pricing is not None
    returned = dict(state.returned)
    now_back: dict[int, int] = {}
    for sku, units in back.lines:
        for line in sale.lines:
            if line.sku != sku or not units:
                continue
            take = min(units, line.quantity - returned.get(line.line_no, 0))
            if take > 0:
                returned[line.line_no] = returned.get(line.line_no, 0) + take
                now_back[line.line_no] = now_back.get(line.line_no, 0) + take
                units -= take
    quantities = {line.line_no: line.quantity for line in sale.lines}
    given, uses_back, record = dict(state.given_back), list(state.uses_back), GivenBack()
    for promo in sale.pricing.promotions:
        lines = [s for s in promo.lines if s.discount_cents or s.bonus_points]
        if not any(s.line_no in now_back for s in lines):
            continue
        all_back = all(returned.get(s.line_no, 0) >= quantities.get(s.line_no, 0) for s in lines)
        before = given.get(promo.promotion_id, 0)
        share = promo.discount_cents - before if all_back else min(
            promo.discount_cents - before,
            sum(s.discount_cents * now_back.get(s.line_no, 0) // max(quantities.get(s.line_no, 1), 1) for s in lines))
        given[promo.promotion_id] = before + share
        use_back = all_back and promo.promotion_id not in uses_back
        if use_back:
            uses_back.append(promo.promotion_id)
        points = sum(s.bonus_points * now_back.get(s.line_no, 0) // max(quantities.get(s.line_no, 1), 1)
                     for s in lines)
        record.promotions[promo.promotion_id] = (share, points, use_back)
    state = state.model_copy(update={"returned": returned, "given_back": given, "uses_back": uses_back,
                                     "backs": {**state.backs, back.event_id: record}})
    return state, _back_outputs(sale, back, record)


def _back_outputs(sale: RedeemPromotions, back: ReturnRedemption, given: GivenBack) -> list[Event]:
    assert sale.pricing is not None
    out: list[Event] = []
    for promo in sale.pricing.promotions:
        if promo.promotion_id not in given.promotions:
            continue
        share, points, use_back = given.promotions[promo.promotion_id]
        out += _receipts(back, promo, share, use_back)
        out.append(_used(sale, promo, "returned", -share, -points, -1 if use_back else 0, back.event_id,
                         at=back.occurred_at))
    return out


def _receipts(back: ReturnRedemption, promo: StampedPromotion, cents: int, use_back: bool) -> list[Event]:
    out: list[Event] = []
    for use in promo.budget:
        amount = cents if use.kind == "money" else (1 if use_back else 0)
        if amount <= 0:
            continue
        cause = f"{back.event_id}:{promo.promotion_id}:{use.account}"[:100]
        out.append(StockMovement(
            event_id=f"{cause}:0", occurred_at=back.occurred_at, source_node=use.node, sku=use.account,
            node=use.node, kind="receipt", quantity=amount, cause_event_id=cause, cause_type=f"budget.{back.cause}",
        ))
    return out


def _used(sale: RedeemPromotions, promo: StampedPromotion, kind: str, cents: int, points: int, uses: int,
          cause: str, at: datetime | None = None) -> PromotionUsed:
    assert sale.pricing is not None
    return PromotionUsed(
        event_id=f"{cause}:{promo.promotion_id}:used"[:100], occurred_at=at or sale.occurred_at,
        source_node=sale.node, purchase_key=sale.purchase_key, promotion_id=promo.promotion_id,
        version=promo.version, kind=kind, channel=sale.channel, node=sale.node,  # type: ignore[arg-type]
        customer_id=sale.customer_id, discount_cents=cents, bonus_points=points, uses=uses,
        offline=sale.pricing.offline, snapshot_version=sale.pricing.snapshot_version,
    )
