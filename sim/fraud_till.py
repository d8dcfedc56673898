"""Till fraud scenarios: a cashier's exceptions far above the store's, and a till line below the
central price (which the pricing stage's re-price reports as a variance)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sim.fraud import FraudCase, FraudPlan
from sim.fraud_events import card_payment, cashier_of, returned, sold, some_units, voided
from sim.state import DayState, Emission
from streams.pos import PosSale, ReturnLine, SaleLine

CASHIER_MINUTES = 120  # the cashier's shift the scenario fills
TILL_PRICE_SHARE = 0.6  # the tampered line's price: 40% under the central price


def cashier_exceptions(day: DayState, plan: FraudPlan) -> None:
    """One cashier rings up 16 to 20 sales in two hours, with 6 to 8 post-voids of their own
    receipts, price overrides below the central price and refunds without a receipt."""
    rng = plan.rng
    store = rng.choice(day.network.stores).node_id
    cashier = cashier_of(rng, store)
    receipts: list[PosSale] = []
    done: list[str] = []  # exceptions sent, by kind

    def ring_up(day: DayState) -> Emission | None:
        wanted = some_units(day, rng, store, rng.randint(1, 3))
        if not wanted:
            return None
        emission = sold(day, plan, store, cashier, wanted, None, card_payment)
        receipts.append(emission[2])  # type: ignore[arg-type]
        return emission

    def exception(kind: str) -> Callable[[DayState], Emission | None]:
        def step(day: DayState) -> Emission | None:
            emission = None
            if kind == "void" and receipts:
                emission = voided(day, plan, receipts.pop(rng.randrange(len(receipts))), cashier, "customer left")
            elif kind == "price_override":
                emission = _override(day, plan, store, cashier)
            if emission is None:
                kind_sent, emission = "no_receipt_refund", _refund(day, plan, store, cashier)
            else:
                kind_sent = kind
            if emission is not None:
                done.append(kind_sent)
            return emission
        return step

    def close(day: DayState) -> Emission | None:
        if len(done) >= 6:
            kinds = ", ".join(f"{done.count(k)} {k}" for k in sorted(set(done)))
            plan.label(FraudCase("cashier_exceptions", (cashier,),
                                 f"cashier {cashier}: {kinds} among {len(receipts) + done.count('void')} sales"))
        return None

    start = day.clock
    for _ in range(rng.randint(16, 20)):
        plan.schedule(start + timedelta(minutes=rng.uniform(0, CASHIER_MINUTES)), ring_up)
    for _ in range(rng.randint(6, 8)):
        kind = rng.choice(("void", "void", "price_override", "no_receipt_refund"))
        plan.schedule(start + timedelta(minutes=rng.uniform(10, CASHIER_MINUTES + 10)), exception(kind))
    plan.schedule(start + timedelta(minutes=CASHIER_MINUTES + 11), close)


def _refund(day: DayState, plan: FraudPlan, store: str, cashier: str) -> Emission | None:
    units = some_units(day, plan.rng, store, 1, stocked=False)
    if not units:
        return None
    sku = units[0][0]
    back = ReturnLine(line_no=1, sku=sku, quantity=1, refund_cents=day.price(sku, store), condition="sellable")
    return returned(day, plan, store, [back], None, None, None, cashier)


def _override(day: DayState, plan: FraudPlan, store: str, cashier: str) -> Emission | None:
    """A sale with one line keyed 30 to 50% under the price; labelled a till price case too."""
    sku = _repriced_sku(day, plan, store)
    if sku is None:
        return None
    emission = sold(day, plan, store, cashier, [(sku, 1)], None, card_payment,
                    keyed=_under(plan.rng.uniform(0.5, 0.7), overridden=True))
    line = emission[2].lines[0]  # type: ignore[attr-defined]
    plan.label(FraudCase("till_price_below_central", (emission[2].receipt_id,),  # type: ignore[attr-defined]
                         f"{cashier} overrode {line.sku} to {line.unit_price_cents / 100:.2f}"))
    return emission


def _repriced_sku(day: DayState, plan: FraudPlan, store: str) -> str | None:
    """A SKU on the store's shelves whose price for `store` was announced on pricing.changes today.
    The rule only knows announced prices (the catalogue's opening prices are not events), so a
    line on any other SKU would be invisible to it."""
    known = sorted(sku for sku, nodes in plan.repriced.items()
                   if ("" in nodes or store in nodes) and day.books.available(sku, store) >= 1)
    return plan.rng.choice(known) if known else None


def _under(share: float, overridden: bool) -> Callable[[SaleLine], SaleLine]:
    """The till's line at `share` of the unit price it priced, its discount at most what is left:
    the line costs less than the centre's price for it, so the centre reports a variance."""
    def keyed(line: SaleLine) -> SaleLine:
        unit = int(line.unit_price_cents * share)
        return line.model_copy(update={"unit_price_cents": unit, "discount_cents": min(line.discount_cents, unit),
                                       "price_overridden": overridden})
    return keyed


def till_price_below_central(day: DayState, plan: FraudPlan) -> None:
    """A till line priced 40% under the central price in force (a tampered price file)."""
    plan.schedule(day.clock, lambda d: _tampered_sale(d, plan, tries=20))


def _tampered_sale(day: DayState, plan: FraudPlan, tries: int) -> Emission | None:
    store = plan.rng.choice(day.network.stores).node_id
    sku = _repriced_sku(day, plan, store)
    if sku is None:
        if tries:
            plan.schedule(day.clock + timedelta(minutes=20), lambda d: _tampered_sale(d, plan, tries - 1))
        return None
    cashier = cashier_of(plan.rng, store)
    emission = sold(day, plan, store, cashier, [(sku, 1)], None, card_payment,
                    keyed=_under(TILL_PRICE_SHARE, overridden=False))
    receipt = emission[2].receipt_id  # type: ignore[attr-defined]
    line = emission[2].lines[0]  # type: ignore[attr-defined]
    plan.label(FraudCase("till_price_below_central", (receipt,),
                         f"{line.sku} sold at {line.unit_price_cents / 100:.2f} on {receipt} at {store}, "
                         f"central {day.price(line.sku, store) / 100:.2f}"))
    return emission
