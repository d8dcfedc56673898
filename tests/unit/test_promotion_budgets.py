"""A promotion's budget as a stock-authority account: never overrun, each use committed once, returns give back.

The real path: `domain.pricing.budgets.opening` opens the account, checkouts place holds,
`domain.pricing.settlement.settle` turns sales and returns into commits and receipts, and
`domain.authority.decide` applies them. The reference: a plain ledger of the same steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.authority import decide
from domain.pricing.budgets import CHAIN, Account, account_sku, opening
from domain.pricing.settlement import Redemption, settle
from domain.stock import SkuStock
from streams.holds import PlaceHold
from streams.redemptions import (
    BudgetUse,
    LineShare,
    PricingStamp,
    RedeemedLine,
    RedeemPromotions,
    ReturnRedemption,
    StampedPromotion,
)

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
SKU = account_sku("P|money|chain|all", "money")
TTL = timedelta(minutes=15)


@dataclass
class Ledger:
    """The reference: what a budget must be, written plainly."""

    limit: int
    held: dict[str, int] = field(default_factory=dict)
    spent: dict[str, int] = field(default_factory=dict)  # by basket: committed minus given back

    def available(self) -> int:
        return self.limit - sum(self.held.values()) - sum(self.spent.values())


def sale(basket: str, amount: int, units: int, at: datetime) -> RedeemPromotions:
    stamp = PricingStamp(basket_id=basket, snapshot_version=1, channel="store", promotions=[StampedPromotion(
        promotion_id="P", version=1, discount_cents=amount, lines=[LineShare(line_no=1, discount_cents=amount)],
        budget=[BudgetUse(account=SKU, node=CHAIN, kind="money", amount=amount, hold_id=f"{basket}/0/{SKU}")],
    )])
    return RedeemPromotions(event_id=f"sale-{basket}", occurred_at=at, source_node="st-001", purchase_key=basket,
                            channel="store", node="st-001", pricing=stamp,
                            lines=[RedeemedLine(line_no=1, sku="SKU-00001", quantity=units, unit_price_cents=10_000)])


def give_back(basket: str, n: int, units: int, at: datetime) -> ReturnRedemption:
    return ReturnRedemption(event_id=f"ret-{basket}-{n}", occurred_at=at, source_node="st-001", purchase_key=basket,
                            cause="return", cause_id=f"r{n}", lines=[("SKU-00001", units)])


step = st.tuples(st.sampled_from(["checkout", "sell", "abandon", "return"]), st.integers(0, 9),
                 st.integers(1, 3_000), st.integers(1, 3))


@settings(max_examples=200, deadline=None)
@given(limit=st.integers(1, 20_000), plan=st.lists(step, max_size=60))
def test_a_budget_account_is_never_overrun_and_matches_the_reference_ledger(limit: int, plan: list) -> None:  # type: ignore[type-arg]
    stock = SkuStock(sku=SKU)
    for receipt in opening(Account("P|money|chain|all", SKU, CHAIN, "money", limit), [(1, limit)], T0):
        stock = decide(stock, receipt).stock
    ref, states, asked, returns = Ledger(limit), {}, {}, {}
    now = T0
    for kind, b, amount, units in plan:
        now += timedelta(seconds=1)
        basket = f"b{b}"
        if kind == "checkout" and basket not in asked:
            asked[basket] = (amount, units)
            place = PlaceHold(event_id=f"place-{basket}", occurred_at=now, source_node="web",
                              hold_id=f"{basket}/0/{SKU}", order_id=basket, sku=SKU, node=CHAIN, quantity=amount,
                              expires_at=now + TTL)
            decision = decide(stock, place)
            stock = decision.stock
            granted = decision.answers[-1].answer == "granted"
            assert granted == (amount <= ref.available())
            if granted:
                ref.held[basket] = amount
        elif kind == "sell" and basket in ref.held:
            state, out = settle(states.get(basket), sale(basket, ref.held[basket], asked[basket][1], now))
            states[basket] = state
            for command in out:
                if command.type.startswith("hold.") or command.type == "stock.movement":
                    stock = decide(stock, command).stock
            ref.spent[basket] = ref.held.pop(basket)
        elif kind == "abandon" and basket in ref.held:
            now += TTL  # the hold expires: every due hold goes with it
            for other in [k for k in ref.held]:
                ref.held.pop(other)
            states = {k: v for k, v in states.items()}
        elif kind == "return" and isinstance(states.get(basket), Redemption) and basket in ref.spent:
            n = returns[basket] = returns.get(basket, 0) + 1
            state, out = settle(states[basket], give_back(basket, n, units, now))
            states[basket] = state
            for command in out:
                if command.type == "stock.movement":
                    stock = decide(stock, command).stock
                    ref.spent[basket] -= command.quantity
        position = stock.position(CHAIN)
        expired_now = [h for h in stock.holds.values() if h.status == "granted" and h.expires_at <= now]
        if not expired_now:
            assert position.on_hand - position.held == ref.available()
        assert position.held <= position.on_hand, "the account promised more than it holds"
        assert all(v >= 0 for v in ref.spent.values()), "a return gave back more than was spent"


def _place(stock: SkuStock, hold_id: str, quantity: int, at: datetime) -> tuple[SkuStock, str]:
    decision = decide(stock, PlaceHold(event_id=f"p-{hold_id}-{quantity}-{at.timestamp()}", occurred_at=at,
                                       source_node="web", hold_id=hold_id, order_id="b", sku=SKU, node=CHAIN,
                                       quantity=quantity, expires_at=at + TTL))
    return decision.stock, decision.answers[-1].answer


def _opened(limit: int) -> SkuStock:
    stock = SkuStock(sku=SKU)
    for receipt in opening(Account("P|money|chain|all", SKU, CHAIN, "money", limit), [(1, limit)], T0):
        stock = decide(stock, receipt).stock
    return stock


def test_a_budget_hold_asked_again_for_another_amount_replaces_it_never_adds_to_it() -> None:
    stock, answer = _place(_opened(1_000), "cart/A", 500, T0)
    stock, answer = _place(stock, "cart/A", 600, T0 + timedelta(seconds=1))
    assert answer == "granted" and stock.position(CHAIN).held == 600


def test_the_same_amount_refused_stays_refused_and_an_ended_hold_is_decided_anew() -> None:
    stock, _ = _place(_opened(1_000), "other", 900, T0)
    stock, answer = _place(stock, "cart/A", 200, T0)
    assert answer == "rejected"
    stock, answer = _place(stock, "cart/A", 200, T0 + timedelta(seconds=1))
    assert answer == "rejected"  # a retry meets the same answer
    later = T0 + TTL + timedelta(seconds=1)  # "other" expired: a new amount is decided anew and fits
    stock, answer = _place(stock, "cart/A", 300, later)
    assert answer == "granted" and stock.position(CHAIN).held == 300
