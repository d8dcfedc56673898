"""Store tills: sales paid by balanced tenders, returns at any store, and post-voids."""

from __future__ import annotations

import random
from datetime import datetime

from domain.pricing.basket import PricedBasket
from sim.pricing import Wanted
from sim.state import DayState, Emission, Receipt, take
from streams.pos import CustomerRef, PosReturn, PosSale, PosVoid, ReturnLine, SaleLine, Tender, VoidLine
from streams.redemptions import PricingStamp
from streams.topics import POS_TRANSACTIONS

LINE_COUNTS = (1, 2, 3, 4, 5)
LINE_COUNT_WEIGHTS = (40, 25, 15, 10, 10)
VOID_REASONS = ("customer changed mind", "wrong item scanned", "price dispute", "duplicate scan")
# Voids happen minutes after the sale: only the most recent receipts qualify.
RECENT_RECEIPTS = 25


def sale(day: DayState) -> Emission | None:
    """A basket at a random store, priced and stamped by its till; lines only for what its shelves hold."""
    rng = day.rng
    store = rng.choice(day.network.stores).node_id
    wanted = _basket(day, store)
    if not wanted:
        return None
    customer = _loyalty_card(day) if rng.random() < 0.4 else None
    event_id, at = day.stamp()
    lines, stamp = rung_up(day, f"rc-{event_id}", store, at, wanted)
    event = PosSale(
        event_id=event_id,
        occurred_at=at,
        source_node=store,
        receipt_id=f"rc-{event_id}",
        terminal_id=f"{store}-t{rng.randint(1, 6)}",
        cashier_id=f"{store}-c{rng.randint(1, 20):02d}",
        customer=customer,
        lines=lines,
        tenders=tenders(rng, sum(line.net_cents for line in lines), customer),
        pricing=stamp,
    )
    for line in lines:
        day.books.move(line.sku, store, -line.quantity)
    sold = tuple((line.sku, line.quantity, line.net_cents) for line in lines)
    day.receipts.append(Receipt(event.receipt_id, store, event.terminal_id, customer, sold))
    return POS_TRANSACTIONS, POS_TRANSACTIONS.key_for(event), event


def _basket(day: DayState, store: str) -> list[tuple[str, int]]:
    """Distinct SKUs with quantities, as many as the store has on its shelves."""
    rng = day.rng
    wanted = rng.choices(LINE_COUNTS, weights=LINE_COUNT_WEIGHTS)[0]
    lines: list[tuple[str, int]] = []
    for _ in range(wanted * 2):  # a shopper gives up on what is out of stock
        item = day.network.pick_item(rng)
        quantity = rng.choice((1, 1, 1, 2, 2, 3))
        if len(lines) == wanted or any(sku == item.sku for sku, _ in lines):
            continue
        if day.books.available(item.sku, store) < quantity:
            continue
        lines.append((item.sku, quantity))
    return lines


def rung_up(day: DayState, receipt_id: str, store: str, at: datetime, wanted: Wanted) -> tuple[list[SaleLine],
                                                                                               PricingStamp]:
    """The basket as the store's till prices it at `at`, and the stamp its sale carries."""
    priced, stamp = day.pricing.checkout(receipt_id, wanted, at, "store", store)
    return sale_lines(day, priced, wanted, store), stamp


def sale_lines(day: DayState, priced: PricedBasket, wanted: Wanted, shelf: str) -> list[SaleLine]:
    """Each line at the book's unit price less its discount. A SKU the book has no price for (the
    catalogue's opening prices are not events) is charged the `shelf` node's price, undiscounted:
    the centre cannot re-price it either."""
    by_line = {line.line_no: line for line in priced.lines}
    lines = []
    for n, (sku, quantity) in enumerate(wanted, start=1):
        line = by_line.get(n)
        if line is None:
            lines.append(SaleLine(line_no=n, sku=sku, quantity=quantity, unit_price_cents=day.price(sku, shelf)))
        else:
            lines.append(SaleLine(line_no=n, sku=sku, quantity=quantity, unit_price_cents=line.unit_price_cents,
                                  discount_cents=line.discount_cents))
    return lines


def tenders(rng: random.Random, net_cents: int, customer: CustomerRef | None) -> list[Tender]:
    """How the receipt is paid: always exactly the net total, sometimes split."""
    roll = rng.random()
    if customer is not None and net_cents >= 2 and roll < 0.25:
        points = rng.randint(1, min(net_cents - 1, 2_000))  # one point pays one cent
        return [
            Tender(method="loyalty_points", amount_cents=points, points=points),
            Tender(method="card", amount_cents=net_cents - points),
        ]
    if net_cents >= 2 and roll > 0.96:
        gift = rng.randint(1, net_cents - 1)
        return [Tender(method="gift_card", amount_cents=gift), Tender(method="card", amount_cents=net_cents - gift)]
    return [Tender(method="card" if roll < 0.75 else "cash", amount_cents=net_cents)]


def pos_return(day: DayState) -> Emission | None:
    """Goods back at a till; with the receipt they may come back to any store."""
    if day.receipts and day.rng.random() < 0.7:
        return _return_with_receipt(day, take(day.receipts, day.rng.randrange(len(day.receipts))))
    return _return_without_receipt(day)


def _return_with_receipt(day: DayState, receipt: Receipt) -> Emission:
    rng = day.rng
    kept = rng.sample(receipt.lines, rng.randint(1, len(receipt.lines)))
    store = rng.choice(day.network.stores).node_id if rng.random() < 0.3 else receipt.store
    if any((sku, store) in day.books.locked for sku, _, _ in kept):
        store = receipt.store  # its pairs were sold from, so never reserved for the back room
    lines = []
    for n, (sku, sold, net) in enumerate(kept, start=1):
        quantity = rng.randint(1, sold)
        lines.append(_return_line(rng, n, sku, quantity, net * quantity // sold))  # refund what was paid
    return _returned(day, store, lines, receipt)


def _return_without_receipt(day: DayState) -> Emission | None:
    rng = day.rng
    store = rng.choice(day.network.stores).node_id
    item = day.network.pick_item(rng)
    if (item.sku, store) in day.books.locked:
        return None
    return _returned(day, store, [_return_line(rng, 1, item.sku, 1, day.price(item.sku, store))], None)


def _return_line(rng: random.Random, line_no: int, sku: str, quantity: int, refund: int) -> ReturnLine:
    condition = "damaged" if rng.random() < 0.15 else "sellable"
    return ReturnLine(line_no=line_no, sku=sku, quantity=quantity, refund_cents=refund, condition=condition)


def _returned(day: DayState, store: str, lines: list[ReturnLine], receipt: Receipt | None) -> Emission:
    event_id, at = day.stamp()
    customer = receipt.customer if receipt else (_loyalty_card(day) if day.rng.random() < 0.3 else None)
    event = PosReturn(
        event_id=event_id,
        occurred_at=at,
        source_node=store,
        return_id=f"rt-{event_id}",
        terminal_id=f"{store}-t{day.rng.randint(1, 6)}",
        cashier_id=f"{store}-c{day.rng.randint(1, 20):02d}",
        original_receipt_id=receipt.receipt_id if receipt else None,
        original_node=receipt.store if receipt else None,
        customer=customer,
        refund_method=day.rng.choice(("card", "cash")) if receipt else "voucher",
        lines=lines,
    )
    for line in lines:
        day.books.move(line.sku, store, line.quantity if line.condition == "sellable" else 0)
    return POS_TRANSACTIONS, POS_TRANSACTIONS.key_for(event), event


def pos_void(day: DayState) -> Emission | None:
    """A recent receipt cancelled at the store and terminal that rang it up."""
    if not day.receipts:
        return None
    low = max(0, len(day.receipts) - RECENT_RECEIPTS)
    receipt = take(day.receipts, day.rng.randrange(low, len(day.receipts)))
    event_id, at = day.stamp()
    event = PosVoid(
        event_id=event_id,
        occurred_at=at,
        source_node=receipt.store,
        receipt_id=receipt.receipt_id,
        terminal_id=receipt.terminal_id,
        cashier_id=f"{receipt.store}-supervisor",
        reason=day.rng.choice(VOID_REASONS),
        lines=[VoidLine(sku=sku, quantity=quantity) for sku, quantity, _ in receipt.lines],
    )
    for sku, quantity, _ in receipt.lines:
        day.books.move(sku, receipt.store, quantity)
    return POS_TRANSACTIONS, POS_TRANSACTIONS.key_for(event), event


def _loyalty_card(day: DayState) -> CustomerRef | None:
    shopper = day.network.customers[day.rng.randrange(len(day.network.customers))]
    return shopper.ref("loyalty_card") if shopper.knows("loyalty_card") else None
