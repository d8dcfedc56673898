"""The events fraud scenarios are made of: till sales, returns and voids, built (and priced) like the tills' own."""

from __future__ import annotations

import random
from collections.abc import Callable

from sim.fraud import FraudPlan
from sim.network import Customer
from sim.pricing import Wanted
from sim.state import DayState, Emission
from sim.tills import rung_up
from streams.pos import CustomerRef, PosReturn, PosSale, PosVoid, ReturnLine, SaleLine, Tender, VoidLine
from streams.topics import POS_TRANSACTIONS


def card_holder(day: DayState, rng: random.Random) -> Customer | None:
    """A customer with a loyalty card, if a few draws find one."""
    for _ in range(50):
        customer = day.network.customers[rng.randrange(len(day.network.customers))]
        if customer.knows("loyalty_card"):
            return customer
    return None


def some_units(day: DayState, rng: random.Random, store: str, wanted: int,
               stocked: bool = True) -> list[tuple[str, int]]:
    """Up to `wanted` distinct SKUs, one unit each: on the store's shelves (`stocked`), or at least
    on a pair the back room does not keep to itself (a return may bring back anything else)."""
    units: list[tuple[str, int]] = []
    for _ in range(wanted * 4):
        sku = day.network.pick_item(rng).sku
        if len(units) == wanted or any(taken == sku for taken, _ in units):
            continue
        if (sku, store) in day.books.locked or (stocked and day.books.available(sku, store) < 1):
            continue
        units.append((sku, 1))
    return units


def cashier_of(rng: random.Random, store: str) -> str:
    return f"{store}-c{rng.randint(1, 20):02d}"


def sold(day: DayState, plan: FraudPlan, store: str, cashier: str, wanted: Wanted, customer: CustomerRef | None,
         pay: Callable[[int], list[Tender]], keyed: Callable[[SaleLine], SaleLine] | None = None) -> Emission:
    """A sale priced and stamped by the store's till at its time, paid by `pay(net cents)`; `keyed`
    replaces each line as the till sends it (a price keyed or tampered with)."""
    event_id, at = plan.stamp(day)
    lines, stamp = rung_up(day, f"rc-{event_id}", store, at, wanted)
    if keyed is not None:
        lines = [keyed(line) for line in lines]
    event = PosSale(
        event_id=event_id, occurred_at=at, source_node=store, receipt_id=f"rc-{event_id}",
        terminal_id=f"{store}-t{plan.rng.randint(1, 6)}", cashier_id=cashier, customer=customer, lines=lines,
        tenders=pay(sum(line.net_cents for line in lines)), pricing=stamp,
    )
    for line in lines:
        day.books.move(line.sku, store, -line.quantity)
    return POS_TRANSACTIONS, POS_TRANSACTIONS.key_for(event), event


def card_payment(net_cents: int) -> list[Tender]:
    return [Tender(method="card", amount_cents=net_cents)]


def returned(day: DayState, plan: FraudPlan, store: str, lines: list[ReturnLine], receipt_id: str | None,
             original_node: str | None, customer: CustomerRef | None, cashier: str | None = None) -> Emission:
    event_id, at = plan.stamp(day)
    event = PosReturn(
        event_id=event_id, occurred_at=at, source_node=store, return_id=f"rt-{event_id}",
        terminal_id=f"{store}-t{plan.rng.randint(1, 6)}", cashier_id=cashier or cashier_of(plan.rng, store),
        original_receipt_id=receipt_id, original_node=original_node if receipt_id else None, customer=customer,
        refund_method=plan.rng.choice(("card", "cash")) if receipt_id else "voucher", lines=lines,
    )
    for line in lines:
        day.books.move(line.sku, store, line.quantity)
    return POS_TRANSACTIONS, POS_TRANSACTIONS.key_for(event), event


def voided(day: DayState, plan: FraudPlan, sale: PosSale, cashier: str, reason: str) -> Emission:
    event_id, at = plan.stamp(day)
    event = PosVoid(
        event_id=event_id, occurred_at=at, source_node=sale.source_node, receipt_id=sale.receipt_id,
        terminal_id=sale.terminal_id, cashier_id=cashier, reason=reason,
        lines=[VoidLine(sku=line.sku, quantity=line.quantity) for line in sale.lines],
    )
    for line in sale.lines:
        day.books.move(line.sku, sale.source_node, line.quantity)
    return POS_TRANSACTIONS, POS_TRANSACTIONS.key_for(event), event
