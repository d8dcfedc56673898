"""One scenario per fraud rule: the ordinary events that make its pattern, and the case's label.

Each scenario schedules its steps from the moment it starts; the last step labels the case if
enough of it was sent to make the pattern (a step finds no stock now and then and skips).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from datetime import timedelta

from domain.identity import customer_id_for, hashed, hashed_device, normalise, purchase_key_of_sale
from sim.config import SimConfig
from sim.fraud import FraudCase, FraudPlan, Scenario
from sim.fraud_events import card_holder, card_payment, returned, sold, some_units
from sim.fraud_till import cashier_exceptions, till_price_below_central
from sim.state import TRADING_DAY, DayState, Emission, take
from streams.customers import CustomerDeviceSeen, CustomerIdentifierLinked
from streams.pos import CustomerRef, ReturnLine, Tender
from streams.topics import CUSTOMER_IDENTIFIERS

# Cases start in this part of the trading day, so even the longest (about 2.5 hours) ends in it.
START_RANGE = (0.03, 0.7)


def plan_fraud(config: SimConfig, identity_key: bytes) -> FraudPlan | None:
    """`config.fraud` of the day's events open a case, the rules taking turns in a seeded order."""
    cases = round(config.events * config.fraud)
    if cases == 0:
        return None
    rng = random.Random(f"{config.seed}:fraud")
    rules = list(SCENARIOS)
    rng.shuffle(rules)
    starts = [(config.start + TRADING_DAY * rng.uniform(*START_RANGE), n, SCENARIOS[rules[n % len(rules)]])
              for n in range(cases)]
    heapq.heapify(starts)
    mean_gap_ms = TRADING_DAY / timedelta(milliseconds=1) / max(1, config.events)
    return FraudPlan(rng, identity_key, mean_gap_ms, starts)


def hashed_ref(ref: CustomerRef, key: bytes) -> str:
    return hashed(ref.kind, normalise(ref.kind, ref.value), key)


def redemption_velocity(day: DayState, plan: FraudPlan) -> None:
    """A cloned loyalty card: points redeemed at 3 or 4 different stores within 20 minutes."""
    holder = card_holder(day, plan.rng)
    if holder is None:
        return
    card = holder.ref("loyalty_card")
    stores = plan.rng.sample(day.network.stores, min(len(day.network.stores), plan.rng.randint(3, 4)))
    minutes = sorted([0.0, *(plan.rng.uniform(1, 18) for _ in stores[1:])])
    used: list[str] = []

    def redeem(store: str) -> Callable[[DayState], Emission | None]:
        def step(day: DayState) -> Emission | None:
            emission = _redeem(day, plan, store, card)
            if emission is None:
                return None
            used.append(store)
            if len(set(used)) == 3:  # the pattern is made: label it, even if the day ends before the 4th
                plan.label(FraudCase("redemption_velocity", (hashed_ref(card, plan.identity_key),),
                                     f"card of customer {holder.number} redeemed at {', '.join(used)} within 20 min"))
            return emission
        return step

    for store, m in zip(stores, minutes, strict=True):
        plan.schedule(day.clock + timedelta(minutes=m), redeem(store.node_id))


def _redeem(day: DayState, plan: FraudPlan, store: str, card: CustomerRef) -> Emission | None:
    wanted = some_units(day, plan.rng, store, plan.rng.randint(1, 3))
    if not wanted:
        return None
    return sold(day, plan, store, f"{store}-c{plan.rng.randint(1, 20):02d}", wanted, card,
                lambda net: _mostly_points(plan.rng, net))


def _mostly_points(rng: random.Random, net: int) -> list[Tender]:
    """More than half the receipt paid with points (one point pays one cent), the rest by card."""
    if net < 2:
        return card_payment(net)
    points = rng.randint(1 + (net - 1) // 2, net - 1)
    return [Tender(method="loyalty_points", amount_cents=points, points=points),
            Tender(method="card", amount_cents=net - points)]


def linked_accounts(day: DayState, plan: FraudPlan) -> None:
    """One phone number (not any customer's) linked to 3 to 5 different accounts within hours, or
    one device (an account farm's handset) that 3 to 5 different accounts sign in on."""
    on_device = plan.rng.random() < 0.5
    phone = CustomerRef(kind="phone", value=f"+3197{plan.rng.randrange(10**8):08d}")
    device = f"farm-{plan.rng.randrange(10**10):010d}"
    entity = hashed_device(device, plan.identity_key) if on_device else hashed_ref(phone, plan.identity_key)
    victims = plan.rng.sample(day.network.customers, min(len(day.network.customers), plan.rng.randint(3, 5)))
    hours = sorted([0.0, *(plan.rng.uniform(0.1, 6) for _ in victims[1:])])
    linked: list[str] = []

    count = len(victims)

    def link(known: CustomerRef) -> Callable[[DayState], Emission | None]:
        def step(day: DayState) -> Emission:
            channel = plan.rng.choice(("web", "app"))
            event_id, at = plan.stamp(day)
            event: CustomerIdentifierLinked | CustomerDeviceSeen
            if on_device:
                event = CustomerDeviceSeen(event_id=event_id, occurred_at=at, source_node=channel,
                                           known_as=known, device_id=device, channel=channel)
            else:
                event = CustomerIdentifierLinked(event_id=event_id, occurred_at=at, source_node=channel,
                                                 known_as=known, identifier=phone, channel=channel)
            linked.append(known.value)
            if len(linked) == 3:  # the pattern is made: label it, even if the day ends before the rest
                what = "device signed in on by" if on_device else "phone linked to"
                plan.label(FraudCase("linked_accounts", (entity,), f"one {what} {count} accounts within 6 hours"))
            return CUSTOMER_IDENTIFIERS, CUSTOMER_IDENTIFIERS.key_for(event), event
        return step

    for victim, h in zip(victims, hours, strict=True):
        plan.schedule(day.clock + timedelta(hours=h), link(victim.ref("loyalty_card", "email", "app_account")))


def return_without_purchase(day: DayState, plan: FraudPlan) -> None:
    """A return citing a receipt never sold, or more units than the receipt bought."""
    plan.schedule(day.clock, lambda d: _return_unbought(d, plan))


def _return_unbought(day: DayState, plan: FraudPlan) -> Emission | None:
    rng = plan.rng
    if day.receipts and rng.random() < 0.5:
        receipt = take(day.receipts, rng.randrange(len(day.receipts)))
        sku, units, net = rng.choice(receipt.lines)
        quantity = units + rng.randint(1, 2)
        line = ReturnLine(line_no=1, sku=sku, quantity=quantity, refund_cents=net * quantity // units,
                          condition="sellable")
        emission = returned(day, plan, receipt.store, [line], receipt.receipt_id, receipt.store, receipt.customer)
        how = f"{quantity} x {sku} back on {receipt.receipt_id}, which sold {units}"
    else:
        store = rng.choice(day.network.stores).node_id
        lines = [ReturnLine(line_no=n, sku=sku, quantity=quantity, refund_cents=quantity * day.price(sku, store),
                            condition="sellable")
                 for n, (sku, quantity) in enumerate(some_units(day, rng, store, rng.randint(1, 2), stocked=False),
                                                     start=1)]
        if not lines:
            return None
        forged = f"rc-forged-{rng.getrandbits(40):010x}"
        emission = returned(day, plan, store, lines, forged, store, None)
        how = f"return at {store} citing receipt {forged}, never sold"
    plan.label(FraudCase("return_without_purchase", (emission[2].return_id,), how))  # type: ignore[attr-defined]
    return emission


def return_above_value(day: DayState, plan: FraudPlan) -> None:
    """A return refunding more than the units were paid (full price for promotion buys, or more)."""
    plan.schedule(day.clock, lambda d: _return_overpaid(d, plan, tries=12))


def _return_overpaid(day: DayState, plan: FraudPlan, tries: int) -> Emission | None:
    rng = plan.rng
    if not day.receipts:
        if tries:
            plan.schedule(day.clock + timedelta(minutes=10), lambda d: _return_overpaid(d, plan, tries - 1))
        return None
    receipt = take(day.receipts, rng.randrange(len(day.receipts)))
    sku, units, net = rng.choice(receipt.lines)
    quantity = rng.randint(1, units)
    paid = -(-net * quantity // units)
    refund = paid + max(300, round(paid * rng.uniform(0.3, 1.0)))
    line = ReturnLine(line_no=1, sku=sku, quantity=quantity, refund_cents=refund, condition="sellable")
    emission = returned(day, plan, receipt.store, [line], receipt.receipt_id, receipt.store, receipt.customer)
    plan.label(FraudCase("return_above_value", (emission[2].return_id,),  # type: ignore[attr-defined]
                         f"{quantity} x {sku} refunded {refund / 100:.2f}, paid {paid / 100:.2f}"))
    return emission


def buy_earn_return(day: DayState, plan: FraudPlan) -> None:
    """A carded customer buys 3 or 4 baskets at their store, then returns each within hours."""
    holder = card_holder(day, plan.rng)
    if holder is None:
        return
    card, store = holder.ref("loyalty_card"), holder.home_store
    count = plan.rng.randint(3, 4)
    bought: dict[int, tuple[str, list[ReturnLine]]] = {}
    back: list[str] = []

    def buy(n: int) -> Callable[[DayState], Emission | None]:
        def step(day: DayState) -> Emission | None:
            wanted = some_units(day, plan.rng, store, plan.rng.randint(1, 3))
            if not wanted:
                return None
            emission = sold(day, plan, store, f"{store}-c{plan.rng.randint(1, 20):02d}", wanted, card, card_payment)
            bought[n] = (emission[2].receipt_id, [  # type: ignore[attr-defined]
                ReturnLine(line_no=line.line_no, sku=line.sku, quantity=line.quantity, refund_cents=line.net_cents,
                           condition="sellable")
                for line in emission[2].lines])  # type: ignore[attr-defined]
            return emission
        return step

    def give_back(n: int) -> Callable[[DayState], Emission | None]:
        def step(day: DayState) -> Emission | None:
            if n not in bought:
                return None
            receipt_id, lines = bought[n]
            emission = returned(day, plan, store, lines, receipt_id, store, card)
            back.append(purchase_key_of_sale(store, receipt_id))
            if len(back) == 3:  # the pattern is made: label it, even if the day ends before a 4th
                customer = customer_id_for(hashed_ref(card, plan.identity_key))
                plan.label(FraudCase("buy_earn_return", (customer, *back),
                                     f"customer {holder.number} bought {count} baskets at {store}, returned them"))
            return emission
        return step

    at = day.clock
    for n in range(count):
        plan.schedule(at, buy(n))
        plan.schedule(at + timedelta(minutes=plan.rng.uniform(60, 150)), give_back(n))
        at += timedelta(minutes=plan.rng.uniform(5, 30))


SCENARIOS: dict[str, Scenario] = {
    "redemption_velocity": redemption_velocity,
    "linked_accounts": linked_accounts,
    "return_without_purchase": return_without_purchase,
    "return_above_value": return_above_value,
    "buy_earn_return": buy_earn_return,
    "cashier_exceptions": cashier_exceptions,
    "till_price_below_central": till_price_below_central,
}
