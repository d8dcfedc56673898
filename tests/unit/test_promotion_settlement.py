"""Settling a purchase's promotions: commits with the sale, proportional give-backs, waiting returns, redelivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.pricing.settlement import settle
from streams.holds import CommitHold
from streams.inventory import StockMovement
from streams.redemptions import (
    BudgetUse,
    LineShare,
    PricingStamp,
    PromotionUsed,
    RedeemedLine,
    RedeemPromotions,
    ReturnRedemption,
    StampedPromotion,
)

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
MONEY, COUPON = "BUD-0000000000000001-M", "BUD-0000000000000002-C"


def sale(offline: bool = False) -> RedeemPromotions:
    use = {"lease_id": "lease/st-001/P/x/1"} if offline else {"hold_id": "b1/0/m"}
    coupon = {"lease_id": "lease/st-001/P/y/1"} if offline else {"hold_id": "b1/0/c"}
    stamp = PricingStamp(basket_id="b1", snapshot_version=7, channel="store", offline=offline, promotions=[
        StampedPromotion(promotion_id="P", version=1, discount_cents=900,
                         lines=[LineShare(line_no=1, discount_cents=600), LineShare(line_no=2, discount_cents=300)],
                         budget=[BudgetUse(account=MONEY, node="chain", kind="money", amount=900, **use),
                                 BudgetUse(account=COUPON, node="chain", kind="coupon", amount=1, **coupon)]),
    ])
    return RedeemPromotions(
        event_id="s1:redeem", occurred_at=T0, source_node="st-001", purchase_key="st-001/r1", channel="store",
        node="st-001", pricing=stamp, lines=[
            RedeemedLine(line_no=1, sku="SKU-00001", quantity=3, unit_price_cents=2000, discount_cents=600),
            RedeemedLine(line_no=2, sku="SKU-00002", quantity=1, unit_price_cents=3000, discount_cents=300)])


def back(n: int, lines: list[tuple[str, int]], cause: str = "return") -> ReturnRedemption:
    return ReturnRedemption(event_id=f"ret{n}:give-back", occurred_at=T0 + timedelta(days=n), source_node="st-002",
                            purchase_key="st-001/r1", cause=cause, cause_id=f"ret{n}", lines=lines)  # type: ignore[arg-type]


def receipts(out: list) -> dict[str, int]:  # type: ignore[type-arg]
    got: dict[str, int] = {}
    for event in out:
        if isinstance(event, StockMovement):
            got[event.sku] = got.get(event.sku, 0) + event.quantity
    return got


def test_a_sale_commits_each_budget_hold_with_its_amount_and_books_one_use() -> None:
    state, out = settle(None, sale())
    commits = [e for e in out if isinstance(e, CommitHold)]
    assert {(c.hold_id, c.quantity) for c in commits} == {("b1/0/m", 900), ("b1/0/c", 1)}
    assert [u.uses for u in out if isinstance(u, PromotionUsed)] == [1]
    assert state is not None and state.sale is not None


def test_an_offline_sale_commits_as_much_of_its_stores_lease_in_one_record() -> None:
    _, out = settle(None, sale(offline=True))
    money = [e for e in out if getattr(e, "sku", None) == MONEY]
    assert len(money) == 1 and isinstance(money[0], CommitHold)
    assert (money[0].hold_id, money[0].quantity) == ("lease/st-001/P/x/1", 900)


def test_a_lease_committed_in_part_keeps_the_rest_promised_and_never_frees_other_holds() -> None:
    from datetime import timedelta as td

    from domain.authority import decide
    from domain.stock import SkuStock
    from streams.holds import PlaceHold

    stock = SkuStock(sku=MONEY)
    stock = decide(stock, StockMovement(event_id="open:0", occurred_at=T0, source_node="chain", sku=MONEY,
                                        node="chain", kind="receipt", quantity=1000, cause_event_id="open",
                                        cause_type="budget.opened")).stock
    for hold_id, quantity in (("lease/st-001/P/x/1", 900), ("web-basket/0/m", 100)):
        stock = decide(stock, PlaceHold(event_id=f"p-{hold_id}", occurred_at=T0, source_node="web", hold_id=hold_id,
                                        order_id="o", sku=MONEY, node="chain", quantity=quantity,
                                        expires_at=T0 + td(days=2))).stock
    _, out = settle(None, sale(offline=True))
    commit = next(e for e in out if isinstance(e, CommitHold) and e.sku == MONEY)
    stock = decide(stock, commit.model_copy(update={"quantity": 300})).stock
    position = stock.position("chain")
    assert (position.on_hand, position.held) == (700, 700)
    assert stock.holds["lease/st-001/P/x/1"].quantity == 600 and stock.holds["web-basket/0/m"].status == "granted"


def test_a_stamp_committed_again_under_another_sale_is_spent_again() -> None:
    from domain.authority import decide
    from domain.stock import SkuStock
    from streams.holds import PlaceHold

    stock = SkuStock(sku=MONEY)
    stock = decide(stock, StockMovement(event_id="open:0", occurred_at=T0, source_node="chain", sku=MONEY,
                                        node="chain", kind="receipt", quantity=1000, cause_event_id="open",
                                        cause_type="budget.opened")).stock
    stock = decide(stock, PlaceHold(event_id="p", occurred_at=T0, source_node="web", hold_id="b1/0/m", order_id="o",
                                    sku=MONEY, node="chain", quantity=900, expires_at=T0 + timedelta(hours=1))).stock
    for n in (1, 2):  # a double submit: two sales, one stamp
        _, out = settle(None, sale().model_copy(update={"event_id": f"s{n}:redeem", "purchase_key": f"st-001/r{n}"}))
        stock = decide(stock, next(e for e in out if isinstance(e, CommitHold) and e.sku == MONEY)).stock
    assert stock.position("chain").on_hand == 1000 - 2 * 900


def test_partial_returns_give_back_their_share_and_the_last_one_the_rest_with_the_use() -> None:
    state, _ = settle(None, sale())
    state, out = settle(state, back(1, [("SKU-00001", 1)]))
    assert receipts(out) == {MONEY: 200}  # a third of line 1's 600
    state, out = settle(state, back(2, [("SKU-00001", 2), ("SKU-00002", 1)]))
    assert receipts(out) == {MONEY: 700, COUPON: 1}  # the rest, and the coupon use: nothing left
    assert state is not None and state.given_back["P|discount"] == 900
    assert state.given_back[f"P|{MONEY}@chain"] == 900


def test_a_return_beyond_what_was_bought_gives_back_nothing_more() -> None:
    state, _ = settle(None, sale())
    state, _ = settle(state, back(1, [("SKU-00001", 3), ("SKU-00002", 1)]))
    state, out = settle(state, back(2, [("SKU-00001", 1)], cause="void"))
    assert receipts(out) == {}


def test_a_return_that_arrives_before_its_sale_waits_and_is_settled_with_it() -> None:
    state, out = settle(None, back(1, [("SKU-00002", 1)]))
    assert out == [] and state is not None and state.waiting
    state, out = settle(state, sale())
    assert receipts(out) == {MONEY: 300}
    assert any(isinstance(e, CommitHold) for e in out)


def test_a_redelivered_return_sends_the_same_give_backs_again_and_changes_nothing() -> None:
    state, _ = settle(None, sale())
    state, first = settle(state, back(1, [("SKU-00001", 1)]))
    again_state, again = settle(state, back(1, [("SKU-00001", 1)]))
    assert again_state == state
    assert [e.event_id for e in again] == [e.event_id for e in first]


def test_an_unstamped_sale_keeps_no_state() -> None:
    unstamped = sale().model_copy(update={"pricing": None})
    assert settle(None, unstamped) == (None, [])


def test_an_order_discount_without_line_shares_comes_back_with_the_whole_purchase() -> None:
    order_wide = sale().model_copy(update={"pricing": sale().pricing.model_copy(update={"promotions": [  # type: ignore[union-attr]
        StampedPromotion(promotion_id="SHIP", version=1, discount_cents=495, budget=[
            BudgetUse(account=MONEY, node="chain", kind="money", amount=495, hold_id="b1/0/s")])]})})
    state, _ = settle(None, order_wide)
    state, out = settle(state, back(1, [("SKU-00001", 3)]))
    assert receipts(out) == {MONEY: 371}  # 3 of the sale's 4 units: three quarters, rounded down
    state, out = settle(state, back(2, [("SKU-00002", 1)]))
    assert receipts(out) == {MONEY: 124}


def test_a_points_budget_comes_back_with_the_lines_that_earned_the_points() -> None:
    points = sale().model_copy(update={"pricing": sale().pricing.model_copy(update={"promotions": [  # type: ignore[union-attr]
        StampedPromotion(promotion_id="PTS", version=1, bonus_points=50,
                         lines=[LineShare(line_no=2, bonus_points=50)],
                         budget=[BudgetUse(account=MONEY, node="chain", kind="money", amount=50,
                                           hold_id="b1/0/p")])]})})
    state, _ = settle(None, points)
    state, out = settle(state, back(1, [("SKU-00002", 1)]))
    assert receipts(out) == {MONEY: 50}
    used = [e for e in out if isinstance(e, PromotionUsed)]
    assert used[0].bonus_points == -50 and used[0].uses == -1


def test_the_same_purchase_published_again_under_another_id_is_redeemed_once() -> None:
    state, first = settle(None, sale())
    state, again = settle(state, sale().model_copy(update={"event_id": "s1-resent:redeem"}))
    assert [e.event_id for e in again] == [e.event_id for e in first]  # the first sale's commits, by their ids


def test_an_unstamped_sale_clears_the_returns_that_waited_for_it() -> None:
    state, _ = settle(None, back(1, [("SKU-00001", 1)]))
    state, out = settle(state, sale().model_copy(update={"pricing": None}))
    assert out == [] and state is not None and not state.waiting
