"""Return rules against a brute-force reference: receipts, returns, redeliveries, states as JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.fraud import Alert, FraudRules
from domain.fraud_judge import expire, is_waiting, judge, key_of
from streams.base import Event
from streams.customers import PurchaseLine, PurchaseRecorded
from streams.fraud import FactLine, PurchaseSeen, ReturnSeen

T0 = datetime(2026, 11, 27, 9, tzinfo=UTC)
SKUS = ["SKU-001", "SKU-002", "SKU-003", "SKU-004"]
RECEIPTS = ["store-a/R-1", "store-a/R-2", "store-b/R-1"]


def deliver(facts: list[Event], rules: FraudRules) -> list[Alert]:
    """Through the judge, each entity's state stored as JSON between facts, as the table keeps it."""
    states: dict[str, str] = {}
    alerts: list[Alert] = []
    for fact in facts:
        judged = judge(states.get(key_of(fact)), fact, rules)
        if judged.state is not None:
            states[key_of(fact)] = judged.state
        alerts += judged.alerts
    for key, stored in sorted(states.items()):  # the grace passes: returns whose sale never came
        if is_waiting(key, stored):
            alerts += expire(key, stored, rules).alerts
    return alerts


def with_redeliveries(facts: list[Event], data: st.DataObject) -> list[Event]:
    """Each fact once, in order, and some again later (a consumer re-reading after a crash)."""
    out = list(facts)
    for n, fact in enumerate(facts):
        if data.draw(st.booleans(), label=f"redeliver {n}"):
            out.insert(data.draw(st.integers(out.index(fact) + 1, len(out)), label="at"), fact)
    return out


# --- return_without_purchase, return_above_value ---------------------------------------------

lines = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 4), st.integers(0, 3000)), min_size=1, max_size=4)
sales = st.dictionaries(st.sampled_from(RECEIPTS), lines, max_size=len(RECEIPTS))
returns = st.lists(st.tuples(st.sampled_from([*RECEIPTS, "store-c/R-9"]), lines), max_size=8)


def fact_lines(drawn: list[tuple[str, int, int]]) -> list[FactLine]:
    return [FactLine(line_no=n, sku=sku, quantity=q, cents=c) for n, (sku, q, c) in enumerate(drawn, 1)]


def sale_fact(receipt: str, drawn: list[tuple[str, int, int]]) -> PurchaseSeen:
    return PurchaseSeen(event_id=f"sold-{receipt}", occurred_at=T0, source_node="store-a", purchase_key=receipt,
                        store=receipt.split("/")[0], lines=fact_lines(drawn))


def return_fact(n: int, receipt: str, drawn: list[tuple[str, int, int]]) -> ReturnSeen:
    return ReturnSeen(event_id=f"ret-{n}", occurred_at=T0 + timedelta(hours=n + 1), source_node="store-a",
                      purchase_key=receipt, return_id=f"RT-{n}", store="store-a", cashier_id="C-1",
                      lines=fact_lines(drawn))


def reference_returns(sold: dict[str, list[tuple[str, int, int]]], back: list[tuple[str, list[tuple[str, int, int]]]],
                      tolerance: int) -> set[tuple[str, str]]:
    """(rule, return id) of every return that brings back more than the receipt sold, or refunds more
    than the units were paid, counting the receipt's earlier returns."""
    out = set()
    returned: dict[tuple[str, str], tuple[int, int]] = {}
    for n, (receipt, drawn) in enumerate(back):
        for sku, units, cents in drawn:
            was = returned.get((receipt, sku), (0, 0))
            returned[receipt, sku] = (was[0] + units, was[1] + cents)
        for sku in {sku for sku, _, _ in drawn}:
            bought = sum(q for s, q, _ in sold.get(receipt, []) if s == sku)
            paid = sum(c for s, _, c in sold.get(receipt, []) if s == sku)
            units, refunded = returned[receipt, sku]
            if units > bought:  # also: receipt never sold, SKU not on it (bought 0)
                out.add(("return_without_purchase", f"RT-{n}"))
            elif refunded > -(-paid * units // bought) + tolerance:
                out.add(("return_above_value", f"RT-{n}"))
    return out


@settings(max_examples=200, deadline=None)
@given(sales, returns, st.integers(0, 50), st.data())
def test_return_alerts_are_exactly_the_reference_and_a_redelivered_return_never_alerts_again(
        sold, back, tolerance, data) -> None:
    rules = FraudRules(return_tolerance_cents=tolerance)
    facts: list[Event] = [sale_fact(receipt, drawn) for receipt, drawn in sold.items()]
    facts += [return_fact(n, receipt, drawn) for n, (receipt, drawn) in enumerate(back)]
    alerts = deliver(with_redeliveries(facts, data), rules)
    found = [(a.rule, a.evidence[0]["return_id"]) for a in alerts]
    assert len(found) == len(set(found)), "an alert raised twice"
    assert set(found) == reference_returns(sold, back, tolerance)
    for alert in alerts:
        assert alert.alert_id == f"{alert.rule}:store-a:{alert.evidence[0]['return_id']}"
        assert (alert.entity_kind, alert.entity_id) == ("store", "store-a")


@settings(max_examples=200, deadline=None)
@given(sales, returns, st.data())
def test_returns_that_overtake_their_sale_wait_for_it_and_alert_as_if_in_order(sold, back, data) -> None:
    """The router re-keys sales and returns from different partitions: on catch-up a return can
    reach the rule before its sale. It waits in the receipt's state and is judged when the sale
    comes, so any interleaving of sales and returns gives the in-order alerts."""
    rules = FraudRules()
    sale_facts: list[Event] = [sale_fact(receipt, drawn) for receipt, drawn in sold.items()]
    return_facts: list[Event] = [return_fact(n, receipt, drawn) for n, (receipt, drawn) in enumerate(back)]
    merged: list[Event] = []
    while sale_facts or return_facts:  # each list keeps its order (a partition's), interleaved at random
        pick = sale_facts if sale_facts and (not return_facts or data.draw(st.booleans())) else return_facts
        merged.append(pick.pop(0))
    found = {(a.rule, a.evidence[0]["return_id"]) for a in deliver(with_redeliveries(merged, data), rules)}
    assert found == reference_returns(sold, back, 0)


def test_the_same_return_id_at_two_stores_is_two_alerts() -> None:
    """Return ids, like receipt ids, are a store's own: the alert id names the store."""
    rules = FraudRules()
    facts = [return_fact(0, "store-c/R-9", [("SKU-001", 1, 100)]),
             return_fact(0, "store-c/R-9", [("SKU-001", 1, 100)]).model_copy(update={"event_id": "ret-b",
                                                                                     "store": "store-b"})]
    alerts = [deliver([fact], rules)[0] for fact in facts]
    assert len({a.alert_id for a in alerts}) == 2


# --- buy_earn_return -------------------------------------------------------------------------

LOOP = FraudRules(loop_window=timedelta(days=30), loop_return_within=timedelta(days=14), loop_min_returns=3)
PURCHASES = [f"store-a/R-{n}" for n in range(6)]


def history(n: int, kind: str, purchase: str, day: int) -> PurchaseRecorded:
    source = f"sale-{purchase}" if kind == "purchase" else f"ret-{n}"
    return PurchaseRecorded(
        event_id=f"{source}:history", occurred_at=T0 + timedelta(days=day, minutes=n), source_node="store-a",
        customer_id="cus-1", kind=kind, purchase_key=purchase, source_event_id=source,  # type: ignore[arg-type]
        channel="store", node="store-a", lines=[PurchaseLine(line_no=1, sku="SKU-001", quantity=1, net_cents=100)],
    )


def reference_loops(records: list[PurchaseRecorded]) -> set[str]:
    """Returns within 14 days of their purchase; every 30-day window ending at one with 3 or more
    different purchases, named by its earliest return."""
    bought: dict[str, datetime] = {}
    counted = []
    for r in records:
        if r.kind == "purchase":
            bought.setdefault(r.purchase_key, r.occurred_at)
        elif r.purchase_key in bought and r.occurred_at - bought[r.purchase_key] <= LOOP.loop_return_within:
            counted.append(r)
    out = set()
    for end in counted:
        inside = [r for r in counted if end.occurred_at - LOOP.loop_window < r.occurred_at <= end.occurred_at]
        if len({r.purchase_key for r in inside}) >= LOOP.loop_min_returns:
            out.add(f"buy_earn_return:cus-1:{inside[0].source_event_id}")
    return out


loop_events = st.lists(st.tuples(st.sampled_from(["purchase", "return"]), st.sampled_from(PURCHASES),
                                 st.integers(0, 60)), max_size=16)


@settings(max_examples=200, deadline=None)
@given(loop_events, st.data())
def test_buy_earn_return_alerts_are_exactly_the_reference_windows(drawn, data) -> None:
    # A purchase (a receipt) happens once: a record of it sent again carries the same time. A
    # receipt id "bought" again 45 days later is not something a till produces; the rule keeps
    # bounded memory and treats it as a new purchase where this unbounded reference does not
    # (hypothesis found that case, ret-5 in CI on 2026-12-06).
    first_day: dict[str, int] = {}
    for kind, purchase, day in drawn:
        if kind == "purchase":
            first_day.setdefault(purchase, day)
    drawn = [(kind, purchase, first_day[purchase] if kind == "purchase" else day) for kind, purchase, day in drawn]
    records = sorted((history(n, kind, purchase, day) for n, (kind, purchase, day) in enumerate(drawn)),
                     key=lambda r: (r.occurred_at, r.event_id))
    alerts = deliver(with_redeliveries(list(records), data), LOOP)  # type: ignore[arg-type]
    ids = [a.alert_id for a in alerts]
    assert len(ids) == len(set(ids)), "an alert raised twice"
    assert set(ids) == reference_loops(records)
    for alert in alerts:
        assert alert.window_end - alert.window_start < LOOP.loop_window
        assert len({e["key"] for e in alert.evidence}) >= LOOP.loop_min_returns


def test_a_return_stamped_before_its_purchase_is_no_loop_even_when_redelivered_after_it() -> None:
    """Found by the property above: a return judged before its purchase was known was dropped, and
    its redelivery after the purchase counted it (a return 'within 14 days' of a later purchase)."""
    records = [history(0, "return", "store-a/R-0", 0), history(1, "purchase", "store-a/R-0", 1)]
    loops = [history(2, "purchase", f"store-a/R-{n}", 1) for n in (1, 2)]
    loops += [history(3 + n, "return", f"store-a/R-{n}", 2) for n in (1, 2)]
    assert deliver([*records, *loops, records[0]], LOOP) == []
