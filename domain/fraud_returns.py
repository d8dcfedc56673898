"""Return fraud rules. Pure: state in, state and alerts out.

`return_without_purchase` (key `receipt:<purchase key>`): a return cites a receipt or an order
that was never sold, or brings back a SKU it did not have, or more units of it than were bought
(counting the receipt's earlier returns). `return_above_value`: a return refunds more for a SKU
than those units were paid (their share of the line's net, rounded up, plus
`return_tolerance_cents`), counting earlier refunds on the receipt. Both once per return.
A receipt's sale normally reaches the rule long before its returns, but they travel different
partitions: when the router catches up (after an outage, or a burst) a return can come first. It
then waits in the receipt's state: the sale judges it when it comes; if it has not come once the
partition's append time is `join_grace` past the return, the return is judged without it.

`buy_earn_return` (key `loop:<customer id>`, from the unified purchase history): a customer
returns a purchase within `loop_return_within` of buying it (having earned points on it) for
`loop_min_returns` or more different purchases within `loop_window`.
"""

from __future__ import annotations

from pydantic import Field

from domain.fraud import Alert, FraudRules, Seen, WindowState, _distinct_alert
from domain.ids import derived_id
from streams.base import Record, UtcDatetime
from streams.customers import PurchaseRecorded
from streams.fraud import PurchaseSeen, ReturnSeen


class Bought(Record):
    quantity: int = 0
    cents: int = 0


class ReceiptState(Record):
    sold: dict[str, Bought] | None = None  # sku -> units and what they were paid; None: sale not seen
    returned: dict[str, Bought] = Field(default_factory=dict)  # sku -> units and refunds so far
    returns: list[str] = Field(default_factory=list)  # return ids judged
    waiting: list[ReturnSeen] = Field(default_factory=list)  # returns that came before the sale


def purchase(state: ReceiptState | None, fact: PurchaseSeen, rules: FraudRules) -> tuple[ReceiptState, list[Alert]]:
    """The sale: recorded once; returns that arrived before it are judged against it now."""
    state = state or ReceiptState()
    if state.sold is not None:
        return state, []
    sold: dict[str, Bought] = {}
    for line in fact.lines:
        was = sold.get(line.sku, Bought())
        sold[line.sku] = Bought(quantity=was.quantity + line.quantity, cents=was.cents + line.cents)
    return _judge_waiting(state.model_copy(update={"sold": sold}), rules)


def overdue(state: ReceiptState, rules: FraudRules) -> tuple[ReceiptState, list[Alert]]:
    """The grace is over and the sale never came: the waiting returns are judged without it."""
    return _judge_waiting(state, rules)


def _judge_waiting(state: ReceiptState, rules: FraudRules) -> tuple[ReceiptState, list[Alert]]:
    waiting, alerts = sorted(state.waiting, key=lambda f: (f.occurred_at, f.return_id)), []
    state = state.model_copy(update={"waiting": []})
    for fact in waiting:
        state, raised = _judge(state, fact, rules)
        alerts += raised
    return state, alerts


def returned(state: ReceiptState | None, fact: ReturnSeen, rules: FraudRules) -> tuple[ReceiptState, list[Alert]]:
    """A return citing the receipt. Before its sale is seen it waits (the sale may be on its way
    through another partition): the sale judges it, or `overdue` once the grace is over."""
    state = state or ReceiptState()
    if fact.return_id in state.returns or any(w.return_id == fact.return_id for w in state.waiting):
        return state, []
    if state.sold is None:
        return state.model_copy(update={"waiting": [*state.waiting, fact]}), []
    return _judge(state, fact, rules)


def _judge(state: ReceiptState, fact: ReturnSeen, rules: FraudRules) -> tuple[ReceiptState, list[Alert]]:
    totals = dict(state.returned)
    for line in fact.lines:
        was = totals.get(line.sku, Bought())
        totals[line.sku] = Bought(quantity=was.quantity + line.quantity, cents=was.cents + line.cents)
    state = state.model_copy(update={"returned": totals, "returns": [*state.returns, fact.return_id]})
    sold = state.sold or {}
    missing: list[dict[str, object]] = []
    over: list[dict[str, int | str]] = []
    for sku in sorted({line.sku for line in fact.lines}):
        got, back = sold.get(sku), totals[sku]
        if got is None or back.quantity > got.quantity:
            missing.append({"sku": sku, "returned_units": back.quantity, "bought_units": got.quantity if got else 0})
            continue
        paid = -(-got.cents * back.quantity // got.quantity)  # their share of the net, rounded up
        if back.cents > paid + rules.return_tolerance_cents:
            over.append({"sku": sku, "refunded_cents": back.cents, "paid_cents": paid, "units": back.quantity})
    alerts = []
    where = {"return_id": fact.return_id, "purchase_key": fact.purchase_key, "store": fact.store,
             "cashier_id": fact.cashier_id, "event_id": fact.event_id}
    if missing:
        what = "a receipt never sold" if state.sold is None else "units the receipt did not have"
        alerts.append(_alert("return_without_purchase", "medium" if state.sold else "high", fact,
                             [{**where, **m} for m in missing],
                             f"return {fact.return_id} at {fact.store} brings back {what} ({fact.purchase_key})"))
    if over:
        extra = sum(int(o["refunded_cents"]) - int(o["paid_cents"]) for o in over)
        alerts.append(_alert("return_above_value", "high" if extra >= 5000 else "medium", fact,
                             [{**where, **o} for o in over],
                             f"return {fact.return_id} at {fact.store} refunds {extra / 100:.2f} more than "
                             f"was paid ({fact.purchase_key})"))
    return state, alerts


def _alert(rule: str, severity: str, fact: ReturnSeen, evidence: list[dict[str, object]], summary: str) -> Alert:
    return Alert(
        alert_id=derived_id(f"{rule}:{fact.store}", fact.return_id), rule=rule, severity=severity,  # type: ignore[arg-type]
        entity_kind="store", entity_id=fact.store, window_start=fact.occurred_at, window_end=fact.occurred_at,
        evidence=evidence, summary=summary,
    )


class LoopState(Record):
    bought: dict[str, UtcDatetime] = Field(default_factory=dict)  # purchase key -> when (within the loop window)
    loops: WindowState = Field(default_factory=WindowState)


def purchase_history(state: LoopState | None, record: PurchaseRecorded,
                     rules: FraudRules) -> tuple[LoopState, list[Alert]]:
    state = state or LoopState()
    at = record.occurred_at
    if record.kind == "purchase":
        bought = dict(state.bought)
        bought.setdefault(record.purchase_key, at)
        newest = max(bought.values())
        bought = {k: v for k, v in bought.items() if v > newest - rules.loop_window - rules.loop_return_within}
        return state.model_copy(update={"bought": bought}), []
    when = state.bought.get(record.purchase_key)
    if when is None or not when <= at <= when + rules.loop_return_within:  # a return before its purchase: no loop
        return state, []
    seen = Seen(event_id=record.source_event_id, at=at, key=record.purchase_key)
    verdict = _distinct_alert(
        state.loops, seen, rules.loop_window, rules.loop_min_returns, "buy_earn_return", "medium", "customer",
        record.customer_id, "{n} purchases bought, earned on and returned within {span}",
    )
    return state.model_copy(update={"loops": verdict.state}), verdict.alerts


