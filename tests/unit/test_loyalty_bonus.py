"""Promotion bonus points: from the sale's pricing stamp to a pending lot, and back on returns."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.identity import identity_requests_for
from domain.identity_log import resolve
from domain.loyalty_rules import EarnRules, points_for_line
from domain.purchases import PurchaseRecord, settle
from domain.wallet import Wallet
from domain.wallet_log import apply
from streams.base import Event
from streams.customers import (
    AttributePurchase,
    CancelPurchase,
    IdentifyPurchase,
    PurchaseLine,
    PurchaseUnits,
    ReturnPurchase,
)
from streams.loyalty import ClawbackPoints, EarnPoints
from streams.pos import CustomerRef, PosSale, SaleLine, Tender
from streams.redemptions import LineShare, PricingStamp, StampedPromotion

T0 = datetime(2026, 11, 26, 9, tzinfo=UTC)
KEY = "st-001/r-1"
CUSTOMER = "cus-1"
WINDOW = timedelta(days=30)
FLAT = EarnRules()


def stamped_sale(stamp: PricingStamp | None) -> PosSale:
    lines = [SaleLine(line_no=1, sku="SKU-001", quantity=2, unit_price_cents=1_000, discount_cents=200),
             SaleLine(line_no=2, sku="SKU-002", quantity=1, unit_price_cents=500)]
    return PosSale(event_id="sale-1", occurred_at=T0, source_node="st-001", receipt_id="r-1", terminal_id="t-1",
                   cashier_id="c-1", customer=CustomerRef(kind="loyalty_card", value="LC-123456"), lines=lines,
                   tenders=[Tender(method="card", amount_cents=2_300)], pricing=stamp)


def promotion(promotion_id: str, shares: list[tuple[int, int]]) -> StampedPromotion:
    return StampedPromotion(promotion_id=promotion_id, version=1, bonus_points=sum(b for _, b in shares),
                            lines=[LineShare(line_no=n, bonus_points=b) for n, b in shares])


STAMP = PricingStamp(basket_id="b-1", snapshot_version=12, channel="store",
                     promotions=[promotion("double-up", [(1, 30), (2, 10)]), promotion("coffee", [(1, 15)])])


def test_each_purchase_line_carries_the_bonus_of_every_promotion_stamped_on_it() -> None:
    (identify,) = identity_requests_for(stamped_sale(STAMP), b"k")
    assert isinstance(identify, IdentifyPurchase)
    assert [(line.line_no, line.bonus_points) for line in identify.lines] == [(1, 45), (2, 10)]
    (plain,) = identity_requests_for(stamped_sale(None), b"k")
    assert [line.bonus_points for line in plain.lines] == [0, 0]  # type: ignore[attr-defined]


def attributed(lines: list[PurchaseLine], fulfilled: bool = True) -> AttributePurchase:
    return AttributePurchase(event_id="attr-1", occurred_at=T0, source_node="st-001", purchase_key=KEY,
                             customer_id=CUSTOMER, purchase_event_id="sale-1", purchased_at=T0, channel="store",
                             node="st-001", fulfilled=fulfilled, lines=lines)


def returned(return_id: str, units: int, sku: str = "SKU-001") -> ReturnPurchase:
    return ReturnPurchase(event_id=f"x-{return_id}", occurred_at=T0 + timedelta(days=2), source_node="st-002",
                          purchase_key=KEY, return_event_id=return_id,
                          lines=[PurchaseUnits(line_no=1, sku=sku, quantity=units)])


def wallet_after(commands: list[Event], wallet: Wallet | None = None, first_offset: int = 0) -> Wallet:
    wallet = wallet or Wallet(customer_id=CUSTOMER)
    for offset, command in enumerate(commands, start=first_offset):
        if isinstance(command, EarnPoints | ClawbackPoints):
            wallet = apply(wallet, command, offset, FLAT).wallet
    return wallet


def test_the_stamped_bonus_joins_the_lines_pending_lot_and_matures_with_it() -> None:
    (identify,) = identity_requests_for(stamped_sale(STAMP), b"k")
    (attribute,) = resolve(None, identify).out  # type: ignore[arg-type]
    assert isinstance(attribute, AttributePurchase)
    step = settle(None, attribute, WINDOW, KEY)
    earns = [e for e in step.out if isinstance(e, EarnPoints)]
    assert [(e.lot_id, e.net_cents, e.bonus_points) for e in earns] == [(f"{KEY}:1", 1_800, 45), (f"{KEY}:2", 500, 10)]
    wallet = wallet_after(step.out)
    base = points_for_line(1_800, "SKU-001", "base", FLAT)
    assert wallet.pending[f"{KEY}:1"].points == wallet.pending[f"{KEY}:1"].earned == base + 45
    assert wallet.balance("pending") == base + 45 + 5 + 10 and wallet.balance("available") == 0
    assert sum(wallet.spend.values()) == 2_300  # bonus points are not spend
    # The sale delivered again (router, attribution and wallet): nothing more.
    again = settle(step.record, attribute, WINDOW, KEY)
    assert again.out == step.out
    assert wallet_after(again.out, wallet, first_offset=10) == wallet.model_copy(update={"applied_offset": 11})
    matured = apply(wallet, EarnPoints(event_id="later", occurred_at=T0 + WINDOW, source_node="st-001",
                                       customer_id=CUSTOMER, lot_id="other:1", points=1, return_window_s=0), 5)
    assert matured.wallet.balance("available") == base + 45 + 5 + 10 + 1


def test_a_full_return_claws_back_base_and_bonus_and_a_partial_one_its_share_rounded_up() -> None:
    line = PurchaseLine(line_no=1, sku="SKU-001", quantity=3, net_cents=2_999, bonus_points=40)
    step = settle(None, attributed([line]), WINDOW, KEY)
    wallet = wallet_after(step.out)
    lot = base_and_bonus = points_for_line(2_999, "SKU-001", "base", FLAT) + 40
    assert wallet.pending[f"{KEY}:1"].points == lot
    one = settle(step.record, returned("ret-1", 1), WINDOW, KEY)
    wallet = wallet_after(one.out, wallet, first_offset=5)
    share = math.ceil(base_and_bonus / 3)
    assert wallet.balance("pending") == lot - share
    # The return redelivered: the same clawback again, which the wallet has seen.
    redelivered = settle(one.record, returned("ret-1", 1), WINDOW, KEY)
    assert redelivered.out == one.out
    assert wallet_after(redelivered.out, wallet, first_offset=10).balance("pending") == lot - share
    rest = settle(one.record, returned("ret-2", 5), WINDOW, KEY)  # more than is left: two units match
    assert wallet_after(rest.out, wallet, first_offset=20).balance("pending") == 0


def test_cancelled_units_take_their_share_of_the_bonus_before_the_order_earns() -> None:
    line = PurchaseLine(line_no=1, sku="SKU-001", quantity=3, net_cents=3_000, bonus_points=50)
    record = settle(None, attributed([line], fulfilled=False), WINDOW, "order/o-1").record
    cancel = CancelPurchase(event_id="c-1", occurred_at=T0, source_node="web", purchase_key="order/o-1",
                            lines=[PurchaseUnits(line_no=1, sku="SKU-001", quantity=1)])
    record = settle(record, cancel, WINDOW, "order/o-1").record
    from streams.customers import FulfilPurchase

    shipped = FulfilPurchase(event_id="f-1", occurred_at=T0 + timedelta(days=1), source_node="dc-1",
                             purchase_key="order/o-1", how="shipped")
    (earn,) = [e for e in settle(record, shipped, WINDOW, "order/o-1").out if isinstance(e, EarnPoints)]
    assert (earn.quantity, earn.net_cents, earn.bonus_points) == (2, 2_000, 33)  # 50 * 2 // 3


def test_an_earn_written_before_bonus_points_existed_still_decodes_with_none() -> None:
    old = ('{"type":"loyalty.earn","event_id":"e","occurred_at":"2026-11-26T09:00:00Z","source_node":"st-001",'
           '"customer_id":"cus-1","lot_id":"st-001/r:1","sku":"SKU-001","net_cents":100,"return_window_s":0}')
    assert EarnPoints.model_validate_json(old).bonus_points == 0
    assert PurchaseRecord.model_validate_json('{"lines":[{"line_no":1,"sku":"SKU-001","quantity":1,'
                                              '"net_cents":5}]}').lines[0].bonus_points == 0


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(0, 50_000), st.integers(0, 500),
       st.lists(st.integers(1, 6), max_size=6))
def test_returns_never_claw_back_more_than_the_lot_and_returning_every_unit_empties_it(
    quantity: int, net_cents: int, bonus: int, returns: list[int],
) -> None:
    line = PurchaseLine(line_no=1, sku="SKU-001", quantity=quantity, net_cents=net_cents, bonus_points=bonus)
    step = settle(None, attributed([line]), WINDOW, KEY)
    wallet = wallet_after(step.out)
    lot = points_for_line(net_cents, "SKU-001", "base", FLAT) + bonus
    assert wallet.balance("pending") == lot
    record, left, offset = step.record, quantity, 10
    for n, units in enumerate(returns):
        back = settle(record, returned(f"ret-{n}", units), WINDOW, KEY)
        record, offset = back.record, offset + 10
        wallet = wallet_after(back.out, wallet, first_offset=offset)
        left -= min(units, left)
        kept = wallet.balance("pending")
        assert 0 <= kept <= lot
        assert kept <= lot - math.ceil(lot * (quantity - left) / quantity) or kept == 0  # each share rounded up
        if left == 0:
            assert kept == 0
