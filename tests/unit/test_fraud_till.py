"""Till rules against brute-force references: cashier exceptions vs the store norm, till prices vs
the central price in force."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.fraud import FraudRules
from domain.fraud_till import EXCEPTIONS, SEEN_KEPT, central_price, till_price
from domain.ids import derived_id
from streams.fraud import CentralPrice, TillActivity, TillPrice
from tests.unit.test_fraud_returns import deliver, with_redeliveries

T0 = datetime(2026, 11, 23, tzinfo=UTC)

# --- cashier_exceptions ----------------------------------------------------------------------

CASHIER = FraudRules(cashier_window_days=3, cashier_min_exceptions=2, cashier_min_sales=2, cashier_min_rate=0.05,
                     cashier_norm_factor=3.0)
KINDS = ["sale", "sale", "sale", "void", "price_override", "no_receipt_refund", "refund"]
activity = st.tuples(st.sampled_from(["C-1", "C-2", "C-3"]), st.integers(0, 6), st.integers(0, 1439),
                     st.sampled_from(KINDS))


def till_fact(n: int, cashier: str, day: int, minute: int, kind: str) -> TillActivity:
    return TillActivity(event_id=f"till-{n}", occurred_at=T0 + timedelta(days=day, minutes=minute),
                        source_node="store-a", store="store-a", cashier_id=cashier, activity=kind,  # type: ignore[arg-type]
                        document_id=f"R-{n}")


def reference_cashiers(facts: list[TillActivity], rules: FraudRules) -> set[str]:
    """At each exception, the cashier's and the other cashiers' counts over the window's days (the
    exception's day and the days before it), recounted from every fact seen so far."""
    out = set()
    for i, fact in enumerate(facts):
        if fact.activity not in EXCEPTIONS:
            continue
        day = fact.occurred_at.date()
        inside = [f for f in facts[: i + 1] if 0 <= (day - f.occurred_at.date()).days < rules.cashier_window_days]
        mine = [f for f in inside if f.cashier_id == fact.cashier_id]
        others = [f for f in inside if f.cashier_id != fact.cashier_id]
        exceptions = sum(f.activity in EXCEPTIONS for f in mine)
        rate = exceptions / max(sum(f.activity == "sale" for f in mine), 1)
        sales_of = Counter(f.cashier_id for f in others if f.activity == "sale")
        peers = {cashier for cashier, n in sales_of.items() if n >= rules.cashier_min_sales}
        others = [f for f in others if f.cashier_id in peers]
        norm = sum(f.activity in EXCEPTIONS for f in others) / max(sum(f.activity == "sale" for f in others), 1)
        sales = sum(f.activity == "sale" for f in mine)
        if sales >= rules.cashier_min_sales and exceptions >= rules.cashier_min_exceptions and (
                rate >= rules.cashier_min_rate and rate >= rules.cashier_norm_factor * norm):
            out.add(derived_id(f"cashier_exceptions:store-a:{fact.cashier_id}", day.isoformat()))
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(activity, max_size=60), st.data())
def test_cashier_alerts_are_the_reference_once_per_cashier_and_day_with_redeliveries_within_256_facts(
        drawn, data) -> None:
    facts = sorted((till_fact(n, *a) for n, a in enumerate(drawn)), key=lambda f: (f.occurred_at, f.event_id))
    deliveries = with_redeliveries(list(facts), data)
    assert len(deliveries) <= SEEN_KEPT  # a redelivery is recognised among the store's last 256 facts
    alerts = deliver(deliveries, CASHIER)  # type: ignore[arg-type]
    ids = [a.alert_id for a in alerts]
    assert len(ids) == len(set(ids)), "an alert raised twice"
    assert set(ids) == reference_cashiers(facts, CASHIER)
    for alert in alerts:
        (evidence,) = alert.evidence
        assert alert.entity_id == evidence["cashier_id"]
        assert evidence["exceptions"] == sum(evidence["by_kind"].values())


# --- till_price_below_central ----------------------------------------------------------------

PRICE = FraudRules(price_tolerance_percent=10)
NODES = [None, "store-a", "store-b"]
# (node, effective_from in hours from T0, price); published in order of effective_from minus a lead time
change = st.tuples(st.sampled_from(NODES), st.integers(0, 200), st.integers(100, 1000), st.integers(0, 72))
sale = st.tuples(st.sampled_from(["store-a", "store-b", "store-c"]), st.integers(0, 200), st.integers(50, 1000))


def reference_price(changes: list[CentralPrice], store: str, at: datetime) -> int | None:
    """The store's own price in force at `at`, else the chain-wide one; of those published so far."""
    for node in (store, None):
        in_force = [c for c in changes if c.node == node and c.effective_from <= at]
        if in_force:
            return max(in_force, key=lambda c: c.effective_from).price_cents
    return None


@settings(max_examples=300, deadline=None)
@given(st.lists(change, max_size=12, unique_by=lambda c: (c[0], c[1])), st.lists(sale, max_size=12))
def test_a_till_price_is_flagged_exactly_when_the_reference_price_in_force_is_higher_beyond_tolerance(
        changes, sales) -> None:
    published = [CentralPrice(event_id=f"price-{n}", occurred_at=T0 + timedelta(hours=hours - lead),
                              source_node="hq", sku="SKU-001", node=node, price_cents=cents,
                              effective_from=T0 + timedelta(hours=hours))
                 for n, (node, hours, cents, lead) in enumerate(changes)]
    sold = [TillPrice(event_id=f"sale-{n}", occurred_at=T0 + timedelta(hours=hours, minutes=30), source_node=store,
                      sku="SKU-001", store=store, cashier_id="C-1", receipt_id=f"R-{n}", line_no=1,
                      unit_price_cents=cents)
            for n, (store, hours, cents) in enumerate(sales)]
    facts = sorted([*published, *sold], key=lambda f: (f.occurred_at, f.event_id))
    state = None
    for fact in facts:
        if isinstance(fact, CentralPrice):
            state = central_price(state, fact)
            continue
        seen = [c for c in published if (c.occurred_at, c.event_id) < (fact.occurred_at, fact.event_id)]
        central = reference_price(seen, fact.store, fact.occurred_at)
        flagged = central is not None and fact.unit_price_cents * 100 < central * (100 - PRICE.price_tolerance_percent)
        alerts = till_price(state, fact, PRICE)
        assert [a.evidence[0]["central_price_cents"] for a in alerts] == ([central] if flagged else []), fact


def test_a_stores_own_price_in_force_is_kept_when_two_later_changes_are_announced() -> None:
    """The state used to keep each node's last two changes by effective_from: announcing two future
    prices dropped the one in force, and the till was judged against the chain-wide price."""
    def price(n: int, node: str | None, cents: int, days: int) -> CentralPrice:
        return CentralPrice(event_id=f"price-{n}", occurred_at=T0, source_node="hq", sku="SKU-001", node=node,
                            price_cents=cents, effective_from=T0 + timedelta(days=days))
    state = None
    for fact in (price(0, None, 1000, 0), price(1, "store-a", 500, 0), price(2, "store-a", 800, 10),
                 price(3, "store-a", 900, 20)):
        state = central_price(state, fact)
    sold = TillPrice(event_id="sale-0", occurred_at=T0 + timedelta(days=1), source_node="store-a", sku="SKU-001",
                     store="store-a", cashier_id="C-1", receipt_id="R-0", line_no=1, unit_price_cents=500)
    assert till_price(state, sold, FraudRules()) == []


def test_the_same_receipt_line_at_two_stores_is_two_alerts() -> None:
    """Receipt ids are a store's own (a purchase is `<store>/<receipt id>`): the alert id names the store."""
    state = central_price(None, CentralPrice(event_id="p", occurred_at=T0, source_node="hq", sku="SKU-001",
                                             price_cents=1000, effective_from=T0))
    sold = [TillPrice(event_id=f"sale-{store}", occurred_at=T0, source_node=store, sku="SKU-001", store=store,
                      cashier_id="C-1", receipt_id="R-1", line_no=1, unit_price_cents=500)
            for store in ("store-a", "store-b")]
    assert len({till_price(state, s, FraudRules())[0].alert_id for s in sold}) == 2


def test_a_till_price_up_to_a_week_late_meets_the_price_it_was_charged_under() -> None:
    def price(n: int, cents: int, days: int) -> CentralPrice:
        return CentralPrice(event_id=f"price-{n}", occurred_at=T0 + timedelta(days=days), source_node="hq",
                            sku="SKU-001", price_cents=cents, effective_from=T0 + timedelta(days=days))
    state = None
    for n, (cents, days) in enumerate([(1000, 0), (400, 2), (300, 8), (200, 9)]):
        state = central_price(state, price(n, cents, days))
    late = TillPrice(event_id="sale-0", occurred_at=T0 + timedelta(days=3), source_node="store-a", sku="SKU-001",
                     store="store-a", cashier_id="C-1", receipt_id="R-0", line_no=1, unit_price_cents=350)
    (alert,) = till_price(state, late, FraudRules())  # charged 3.50 while 4.00 held, six days before the news
    assert alert.evidence[0]["central_price_cents"] == 400


def test_till_prices_waiting_for_the_central_price_are_judged_against_prices_that_came_after_them() -> None:
    """Catching up, the router can re-key a day's till sales before the day's price changes: a till
    price waits in the SKU's state, and a central price arriving meanwhile must not drop it (the
    demo missed all seven till-price cases when it did)."""
    from domain.fraud_judge import expire, judge

    rules = FraudRules()
    sold = TillPrice(event_id="sale-0", occurred_at=T0 + timedelta(hours=1), source_node="store-a", sku="SKU-001",
                     store="store-a", cashier_id="C-1", receipt_id="R-0", line_no=1, unit_price_cents=300)
    price = CentralPrice(event_id="price-0", occurred_at=T0, source_node="hq", sku="SKU-001", price_cents=500,
                         effective_from=T0)
    stored = judge(None, sold, rules).state
    stored = judge(stored, price, rules).state
    assert stored is not None
    (alert,) = expire("sku:SKU-001", stored, rules).alerts
    assert alert.evidence[0]["central_price_cents"] == 500


def test_waiting_till_prices_are_bounded_and_the_oldest_are_judged_early_not_dropped() -> None:
    """A worker catching up on a backlog that arrived within the join grace held every till price
    of a popular SKU in one value (925 KB, near Kafka's 1 MB limit). Beyond MAX_WAITING the oldest
    are judged at once against the central prices known; each still gets its verdict."""
    from domain.fraud_judge import expire, judge
    from domain.fraud_till import MAX_WAITING, SkuState

    rules = FraudRules()
    price = CentralPrice(event_id="price-0", occurred_at=T0, source_node="hq", sku="SKU-001", price_cents=500,
                         effective_from=T0)
    stored = judge(None, price, rules).state
    alerts = []
    n = MAX_WAITING + 40
    for i in range(n):  # every till price underpriced: each must give exactly one alert in the end
        sold = TillPrice(event_id=f"sale-{i}", occurred_at=T0 + timedelta(minutes=i), source_node="store-a",
                         sku="SKU-001", store="store-a", cashier_id="C-1", receipt_id=f"R-{i}", line_no=1,
                         unit_price_cents=300)
        judged = judge(stored, sold, rules)
        stored, alerts = judged.state, alerts + judged.alerts
        assert isinstance(stored, SkuState) and len(stored.waiting) <= MAX_WAITING
    assert len(alerts) == n - MAX_WAITING  # the oldest, judged early
    alerts += expire("sku:SKU-001", stored, rules).alerts
    assert sorted(a.evidence[0]["receipt_id"] for a in alerts) == sorted(f"R-{i}" for i in range(n))
