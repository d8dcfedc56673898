"""Till rules: cashier exceptions against a brute-force reference of the store norm, and till
lines the pricing stage re-priced higher than they were charged (`pricing.variance`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import get_args

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.fraud import Alert, FraudRules
from domain.fraud_facts import facts_for, facts_for_variance
from domain.fraud_judge import Judged
from domain.fraud_till import EXCEPTIONS, SEEN_KEPT, till_variance
from domain.ids import derived_id
from streams.fraud import TillActivity, TillVariance
from streams.pos import PosSale, SaleLine, Tender
from streams.redemptions import LineShare, PricingStamp, PricingVariance, StampedPromotion
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
CAUSES = ["price_override", "stale_snapshot", "unstamped", "unexplained"]


def variance(n: int, charged: int, expected: int, cause: str = "price_override", line_no: int = 1,
             receipt: str | None = None, cashier: str | None = "C-7") -> PricingVariance:
    """A till line of 2 units the pricing stage re-priced: charged `charged`, the centre `expected`."""
    return PricingVariance(
        event_id=f"var-{n}", occurred_at=T0 + timedelta(minutes=n), source_node="pricing",
        receipt_id=receipt or f"R-{n}", store="store-a", terminal_id="store-a-t1", cashier_id=cashier,
        line_no=line_no, sku="SKU-001", quantity=2, charged_cents=charged, expected_cents=expected,
        variance_cents=charged - expected, charged_unit_price_cents=charged // 2,
        expected_unit_price_cents=expected // 2, till_snapshot_version=None if cause == "unstamped" else 40,
        centre_snapshot_version=42, cause=cause,  # type: ignore[arg-type]
    )


def judged(*variances: PricingVariance, rules: FraudRules = PRICE) -> list[Alert]:
    return deliver([fact for v in variances for fact in facts_for_variance(v)], rules)


def test_a_line_the_till_priced_with_a_promotion_the_centre_agrees_with_is_never_flagged() -> None:
    """The sale was stamped with the promotion and the centre re-prices it the same: the pricing
    stage reports no variance, and the till price far below the list price raises nothing. (The
    rule this replaced compared unit prices with the list price and flagged every such line.)"""
    sale = PosSale(event_id="s-1", occurred_at=T0, source_node="store-a", receipt_id="R-1", terminal_id="t-1",
                   cashier_id="C-7", lines=[SaleLine(line_no=1, sku="SKU-001", quantity=2, unit_price_cents=1_000,
                                                     discount_cents=1_000)],
                   tenders=[Tender(method="card", amount_cents=1_000)],
                   pricing=PricingStamp(basket_id="R-1", snapshot_version=42, channel="store", promotions=[
                       StampedPromotion(promotion_id="half-price", version=1, discount_cents=1_000,
                                        lines=[LineShare(line_no=1, discount_cents=1_000)])]))
    assert [f for f in facts_for(sale, b"k") if isinstance(f, TillVariance)] == []
    assert judged() == []
    # A variance in the customer's favour of nothing, or in the chain's favour, gives no fact at all.
    assert facts_for_variance(variance(1, 2_000, 2_000)) == facts_for_variance(variance(2, 2_400, 2_000)) == []


def test_an_override_beyond_the_tolerance_is_flagged_against_the_cashier_and_one_within_it_is_not() -> None:
    within = variance(1, 1_800, 2_000)  # 10% under: the tolerance
    beyond = variance(2, 1_790, 2_000)  # 10.5% under
    (alert,) = judged(within, beyond)
    (evidence,) = alert.evidence
    assert (alert.rule, alert.severity, alert.entity_kind, alert.entity_id) == (
        "till_price_below_central", "medium", "cashier", "C-7")
    assert alert.alert_id == derived_id("till_price_below_central:store-a:R-2", "1")
    assert (evidence["receipt_id"], evidence["cause"], evidence["below_cents"]) == ("R-2", "price_override", 210)
    assert (evidence["till_price_cents"], evidence["central_price_cents"]) == (895, 1_000)
    (half,) = judged(variance(3, 1_000, 2_000, cause="unexplained"))
    assert half.severity == "high"  # at half the centre's price or less


def test_a_stale_snapshot_is_reported_at_low_severity_against_the_store_not_the_cashier() -> None:
    (alert,) = judged(variance(1, 1_000, 2_000, cause="stale_snapshot"))
    (evidence,) = alert.evidence
    assert (alert.severity, alert.entity_kind, alert.entity_id) == ("low", "store", "store-a")
    assert evidence["cashier_id"] == "C-7" and evidence["cause"] == "stale_snapshot"
    assert (evidence["till_snapshot_version"], evidence["centre_snapshot_version"]) == (40, 42)
    assert "operations issue" in alert.summary
    (unstamped,) = judged(variance(2, 1_000, 2_000, cause="unstamped", cashier=None))
    assert (unstamped.severity, unstamped.entity_kind, unstamped.entity_id) == ("high", "store", "store-a")


def test_a_redelivered_or_republished_variance_is_judged_and_counted_once() -> None:
    first = variance(1, 1_000, 2_000)
    again = variance(9, 1_000, 2_000, receipt="R-1")  # the same receipt line, published again with a new id
    (fact,) = facts_for_variance(first)
    assert isinstance(fact, TillVariance)
    state, alerts = till_variance(None, fact, PRICE)
    for repeat in (fact, fact, *facts_for_variance(again)):
        assert isinstance(repeat, TillVariance)
        state2, more = till_variance(state, repeat, PRICE)
        assert more == [] and state2 == state
    assert len(alerts) == 1 and state.days == {T0.date().isoformat(): {"price_override": 1}}
    (alert,) = judged(first, first, again)
    assert alert.evidence[0]["store_lines_today"] == 1


variance_st = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(0, 5_000), st.integers(1, 5_000),
                        st.sampled_from(CAUSES))


@settings(max_examples=300, deadline=None)
@given(st.lists(variance_st, max_size=20), st.integers(0, 50), st.data())
def test_each_receipt_line_under_the_centre_beyond_tolerance_alerts_once_however_delivered(
        lines, tolerance, data) -> None:
    rules = FraudRules(price_tolerance_percent=tolerance)
    variances = [variance(n, charged, expected, cause, line_no=line, receipt=f"R-{receipt}")
                 for n, (receipt, line, charged, expected, cause) in enumerate(lines)]
    first: dict[tuple[str, int], PricingVariance] = {}
    for v in variances:
        if v.charged_cents < v.expected_cents:  # only lines charged under the centre become facts
            first.setdefault((v.receipt_id, v.line_no), v)
    facts = [fact for v in variances for fact in facts_for_variance(v)]
    alerts = deliver(with_redeliveries(facts, data), rules)
    want = {(r, line) for (r, line), v in first.items()
            if (v.expected_cents - v.charged_cents) * 100 > tolerance * v.expected_cents}
    assert sorted((a.evidence[0]["receipt_id"], a.evidence[0]["line_no"]) for a in alerts) == sorted(want)
    for alert in alerts:
        stale = alert.evidence[0]["cause"] == "stale_snapshot"
        assert (alert.severity == "low") == stale and (alert.entity_kind == "store") == stale


def test_the_facts_cause_is_the_pricing_variances_cause() -> None:
    assert get_args(TillVariance.model_fields["cause"].annotation) == get_args(
        PricingVariance.model_fields["cause"].annotation)


def test_sku_keys_left_waiting_by_the_till_price_rule_this_replaced_are_dropped_unread() -> None:
    from domain.fraud_judge import WaitingIndex, expire, is_waiting, settle_waiting

    old_state = '{"prices":[],"as_of":null,"waiting":[]}'  # a SkuState as the table kept it
    assert expire("sku:SKU-001", old_state, PRICE).state is None and not is_waiting("sku:SKU-001", old_state)
    (fact,) = facts_for_variance(variance(1, 1_000, 2_000))
    index = WaitingIndex(since={"sku:SKU-001": T0})
    after, expired = settle_waiting(index, "variance:store-a", fact, Judged(None), T0 + timedelta(hours=1), PRICE,
                                    lambda key: old_state)
    assert after.since == {} and [(j.state, j.alerts) for j in expired.values()] == [(None, [])]
