"""Settling a purchase's promotions: budget committed with the sale, given back with returns. Pure.

State per purchase (receipt or order id): the stamped sale, the units returned so far, the
budget given back so far, and the ids of commands applied (a redelivered one changes nothing
and sends again what it sent, under the same ids, which the stock authority deduplicates).

- A sale's online budget uses commit their holds (with node and quantity, so a hold expired
  before the sale arrived still books what the customer got: an `unheld_commit`, visible).
- An offline use spends from its store's lease: that much of the lease hold is committed in one
  record (the stock authority commits budget holds in part; the lease stays open with the rest).
  A lease already gone by then is spent past it: the account shows below zero, never silently.
- A return, void or cancellation gives back each budget use in proportion to the share of the
  promotion's lines returned (rounded down; the last return gives back the rest; capped by what
  the use took), as a receipt into the account; count and coupon uses come back once nothing of
  the promotion's lines is left (all the sale's lines for an order or shipping discount).
- A return that arrives before its sale waits in the state for it.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from pydantic import Field

from domain.ids import derived_id
from streams.base import Event, Record
from streams.holds import CommitHold
from streams.inventory import StockMovement
from streams.redemptions import BudgetUse, PromotionUsed, RedeemPromotions, ReturnRedemption, StampedPromotion

SEEN_KEPT = 200


class Back(Record):
    """What one return gave back of one promotion: `discount`, `points`, and per `<account>@<node>` its amount."""

    amounts: dict[str, int] = Field(default_factory=dict)
    use_back: bool = False


class GivenBack(Record):
    """What one return, void or cancellation gave back, per promotion."""

    promotions: dict[str, Back] = Field(default_factory=dict)


class Redemption(Record):
    sale: RedeemPromotions | None = None
    backs: dict[str, GivenBack] = Field(default_factory=dict)  # by command id: re-sent if redelivered
    returned: dict[int, int] = Field(default_factory=dict)  # line_no -> units returned
    # `<promotion>|<discount|points|<account>@<node>>` -> given back so far
    given_back: dict[str, int] = Field(default_factory=dict)
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
        if state.sale is not None:  # the purchase again under another id (a re-publish): redeemed once
            return state.model_copy(update={"seen": seen}), _redeemed(state.sale)
        if command.pricing is None or not command.pricing.promotions:
            # Nothing to redeem: a return that waited for this sale has nothing to give back either
            return (state.model_copy(update={"seen": seen, "waiting": []}) if state.waiting else None), []
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
        return _redeemed(state.sale) if state.sale is not None else []
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
    """Online: the checkout's hold committed. Offline: as much of the store's lease committed, in one record
    (the lease stays open with the rest); a lease gone by then is spent past it, shown below zero."""
    hold_id = use.hold_id if use.hold_id is not None else use.lease_id
    assert hold_id is not None
    return [CommitHold(event_id=derived_id(sale.event_id, f"commit:{use.account}"), occurred_at=sale.occurred_at,
                       source_node=sale.node, sku=use.account, hold_id=hold_id, cause="sale", node=use.node,
                       quantity=use.amount)]


def _returned_units(sale: RedeemPromotions, state: Redemption, back: ReturnRedemption) -> tuple[dict[int, int], bool]:
    """Units returned per line after `back` (never beyond what was bought), and whether it returned any."""
    returned = dict(state.returned)
    moved = False
    for sku, units in back.lines:
        for line in sale.lines:
            if line.sku != sku or units <= 0:
                continue
            take = min(units, line.quantity - returned.get(line.line_no, 0))
            if take > 0:
                returned[line.line_no] = returned.get(line.line_no, 0) + take
                units -= take
                moved = True
    return returned, moved


def _give_back(state: Redemption, back: ReturnRedemption) -> tuple[Redemption, list[Event]]:
    """Each promotion gives back the share of its budget uses, discount and points that the returned units
    carried (by the promotion's line shares; all the sale's units when it has none, as an order or shipping
    discount), rounded down; once all of them are back, the rest and the count or coupon use."""
    sale = state.sale
    assert sale is not None and sale.pricing is not None
    returned, moved = _returned_units(sale, state, back)
    quantities = {line.line_no: line.quantity for line in sale.lines}
    given, uses_back, record = dict(state.given_back), list(state.uses_back), GivenBack()
    for promo in sale.pricing.promotions if moved else ():
        basis = {x.line_no: x.discount_cents or x.bonus_points for x in promo.lines
                 if x.discount_cents or x.bonus_points}
        basis = basis or dict(quantities)  # an order or shipping discount: every unit of the sale alike
        total = sum(basis.values())
        fraction = sum(Fraction(w * min(returned.get(n, 0), quantities.get(n, 0)), max(quantities.get(n, 1), 1))
                       for n, w in basis.items()) / total
        all_back = all(returned.get(n, 0) >= quantities.get(n, 0) for n in basis)
        back_now: dict[str, int] = {}
        for what, whole in [("discount", promo.discount_cents), ("points", promo.bonus_points),
                            *((f"{u.account}@{u.node}", u.amount if u.kind == "money" else 0) for u in promo.budget)]:
            key = f"{promo.promotion_id}|{what}"
            target = whole if all_back else int(whole * fraction)
            back_now[what] = max(0, target - given.get(key, 0))
            given[key] = given.get(key, 0) + back_now[what]
        use_back = all_back and promo.promotion_id not in uses_back
        if use_back:
            uses_back.append(promo.promotion_id)
            for u in promo.budget:
                if u.kind != "money":
                    back_now[f"{u.account}@{u.node}"] = 1
        if any(back_now.values()) or use_back:
            record.promotions[promo.promotion_id] = Back(amounts=back_now, use_back=use_back)
    state = state.model_copy(update={"returned": returned, "given_back": given, "uses_back": uses_back,
                                     "backs": {**state.backs, back.event_id: record}})
    return state, _back_outputs(sale, back, record)


def _back_outputs(sale: RedeemPromotions, back: ReturnRedemption, given: GivenBack) -> list[Event]:
    assert sale.pricing is not None
    out: list[Event] = []
    for promo in sale.pricing.promotions:
        done = given.promotions.get(promo.promotion_id)
        if done is None:
            continue
        for use in promo.budget:
            amount = done.amounts.get(f"{use.account}@{use.node}", 0)
            if amount > 0:
                cause = derived_id(back.event_id, f"{promo.promotion_id}:{use.account}")
                out.append(StockMovement(
                    event_id=derived_id(cause, "0"), occurred_at=back.occurred_at, source_node=use.node,
                    sku=use.account, node=use.node, kind="receipt", quantity=amount, cause_event_id=cause,
                    cause_type=f"budget.{back.cause}",
                ))
        out.append(_used(sale, promo, "returned", -done.amounts.get("discount", 0), -done.amounts.get("points", 0),
                         -1 if done.use_back else 0, back.event_id, at=back.occurred_at))
    return out


def _used(sale: RedeemPromotions, promo: StampedPromotion, kind: str, cents: int, points: int, uses: int,
          cause: str, at: datetime | None = None) -> PromotionUsed:
    assert sale.pricing is not None
    return PromotionUsed(
        event_id=derived_id(cause, f"{promo.promotion_id}:used"), occurred_at=at or sale.occurred_at,
        source_node=sale.node, purchase_key=sale.purchase_key, promotion_id=promo.promotion_id,
        version=promo.version, kind=kind, channel=sale.channel, node=sale.node,  # type: ignore[arg-type]
        customer_id=sale.customer_id, discount_cents=cents, bonus_points=points, uses=uses,
        offline=sale.pricing.offline, snapshot_version=sale.pricing.snapshot_version,
    )
