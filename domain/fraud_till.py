"""Till fraud rules: a cashier's exceptions far above their store's norm, and till lines charged
below the centre's price. Pure: state in, state and alerts out.

`cashier_exceptions` (key `store:<store>`): per store and day, each cashier's sales and
exceptions (post-voids, price overrides, refunds without a receipt). When a cashier's exception
makes their rate over the last `cashier_window_days` days at least `cashier_min_rate`, with at
least `cashier_min_exceptions` exceptions, and at least `cashier_norm_factor` times the rate of the
store's other cashiers over the same days, the cashier is flagged, once per cashier and day.

`till_price_below_central` (key `variance:<store>`): a till line charged less than the centre's
re-price of it (a `pricing.variance` from the pricing stage, which re-prices every till sale
with the price book as it stood when the sale happened, promotions included), by more than
`price_tolerance_percent` of the centre's price. A line with a promotion the till applied and
the centre agrees with has no variance, so is never flagged. Once per receipt line; the
variance's cause sets who is named and how bad it is (`till_variance`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import Field

from domain.fraud import Alert, FraudRules
from domain.ids import derived_id
from streams.base import Record
from streams.fraud import TillActivity, TillVariance

EXCEPTIONS = ("void", "price_override", "no_receipt_refund")
SEEN_KEPT = 256  # ids of recent facts, so a redelivered one is not counted twice


class Counts(Record):
    sales: int = 0
    exceptions: int = 0
    by_kind: dict[str, int] = Field(default_factory=dict)


class StoreState(Record):
    days: dict[str, dict[str, Counts]] = Field(default_factory=dict)  # iso day -> cashier -> counts
    seen: list[str] = Field(default_factory=list)
    alerted: list[str] = Field(default_factory=list)


def till_activity(state: StoreState | None, fact: TillActivity, rules: FraudRules) -> tuple[StoreState, list[Alert]]:
    state = state or StoreState()
    if fact.event_id in state.seen:
        return state, []
    day = fact.occurred_at.date()
    first_kept = day - timedelta(days=rules.cashier_window_days - 1)
    days = {d: dict(c) for d, c in state.days.items() if date.fromisoformat(d) >= first_kept}
    cashiers = days.setdefault(day.isoformat(), {})
    counts = cashiers.get(fact.cashier_id, Counts())
    if fact.activity == "sale":
        counts = counts.model_copy(update={"sales": counts.sales + 1})
    elif fact.activity in EXCEPTIONS:
        by_kind = {**counts.by_kind, fact.activity: counts.by_kind.get(fact.activity, 0) + 1}
        counts = counts.model_copy(update={"exceptions": counts.exceptions + 1, "by_kind": by_kind})
    cashiers[fact.cashier_id] = counts
    state = StoreState(days=days, seen=[*state.seen, fact.event_id][-SEEN_KEPT:], alerted=state.alerted)
    if fact.activity not in EXCEPTIONS:
        return state, []
    return _judge_cashier(state, fact, rules)


def _judge_cashier(state: StoreState, fact: TillActivity, rules: FraudRules) -> tuple[StoreState, list[Alert]]:
    totals: dict[str, Counts] = {}
    kinds: dict[str, int] = {}
    for cashiers in state.days.values():
        for cashier, c in cashiers.items():
            was = totals.get(cashier, Counts())
            totals[cashier] = Counts(sales=was.sales + c.sales, exceptions=was.exceptions + c.exceptions)
            if cashier == fact.cashier_id:
                for kind, n in c.by_kind.items():
                    kinds[kind] = kinds.get(kind, 0) + n
    mine = totals[fact.cashier_id]
    # The norm: the store's other cashiers, those with enough sales to have a rate (a supervisor who
    # only authorises voids would otherwise count as exceptions without sales).
    peers = [c for cashier, c in totals.items() if cashier != fact.cashier_id and c.sales >= rules.cashier_min_sales]
    others = Counts(sales=sum(c.sales for c in peers), exceptions=sum(c.exceptions for c in peers))
    rate = mine.exceptions / max(mine.sales, 1)
    norm = others.exceptions / max(others.sales, 1)
    if mine.sales < rules.cashier_min_sales:
        return state, []  # a supervisor authorising voids, or a cashier's first shift: no rate to judge
    if mine.exceptions < rules.cashier_min_exceptions or rate < rules.cashier_min_rate:
        return state, []
    if rate < rules.cashier_norm_factor * norm:
        return state, []
    day = fact.occurred_at.date()
    alert_id = derived_id(f"cashier_exceptions:{fact.store}:{fact.cashier_id}", day.isoformat())
    if alert_id in state.alerted:
        return state, []
    start = datetime.combine(day - timedelta(days=rules.cashier_window_days - 1), datetime.min.time(),
                             tzinfo=fact.occurred_at.tzinfo)
    alert = Alert(
        alert_id=alert_id, rule="cashier_exceptions", severity="high" if rate >= 2 * rules.cashier_norm_factor * norm
        else "medium", entity_kind="cashier", entity_id=fact.cashier_id, window_start=start,
        window_end=fact.occurred_at,
        evidence=[{"store": fact.store, "cashier_id": fact.cashier_id, "sales": mine.sales,
                   "exceptions": mine.exceptions, "by_kind": kinds, "rate": round(rate, 4),
                   "store_norm": round(norm, 4), "other_sales": others.sales,
                   "other_exceptions": others.exceptions, "last_event_id": fact.event_id}],
        summary=(f"cashier {fact.cashier_id} at {fact.store}: {mine.exceptions} voids, overrides or no-receipt "
                 f"refunds on {mine.sales} sales ({rate:.1%}) vs the store's {norm:.1%} over "
                 f"{rules.cashier_window_days} days"),
    )
    return state.model_copy(update={"alerted": [*state.alerted, alert_id][-64:]}), [alert]


class VarianceState(Record):
    """A store's till lines charged below the centre's price, as judged so far."""

    lines: list[str] = Field(default_factory=list)  # `<receipt>:<line no>` judged (recent): each counts once
    days: dict[str, dict[str, int]] = Field(default_factory=dict)  # iso day -> cause -> lines judged
    alerted: list[str] = Field(default_factory=list)


def till_variance(
    state: VarianceState | None, fact: TillVariance, rules: FraudRules,
) -> tuple[VarianceState, list[Alert]]:
    """Judge one till line the pricing stage re-priced higher than the till charged it.

    A receipt line is judged once, whichever variance event (or redelivery) brings it. Beyond
    `price_tolerance_percent` of the centre's price: `price_override`, `unexplained` and
    `unstamped` lines are the cashier's (medium; high at half price or less); a `stale_snapshot`
    line is alerted at `low` severity against the store, not the cashier: the till priced with
    an old book (offline, or not yet updated), an operations issue to see and fix, but the
    cashier charged what the till told them.
    """
    state = state or VarianceState()
    line = f"{fact.receipt_id}:{fact.line_no}"
    if line in state.lines:
        return state, []
    day = fact.occurred_at.date()
    first_kept = day - timedelta(days=rules.cashier_window_days - 1)
    days = {d: dict(c) for d, c in state.days.items() if date.fromisoformat(d) >= first_kept}
    causes = days.setdefault(day.isoformat(), {})
    causes[fact.cause] = causes.get(fact.cause, 0) + 1
    state = VarianceState(lines=[*state.lines, line][-SEEN_KEPT:], days=days, alerted=state.alerted)
    below = fact.expected_cents - fact.charged_cents
    if below <= 0 or below * 100 <= rules.price_tolerance_percent * fact.expected_cents:
        return state, []
    alert_id = derived_id(f"till_price_below_central:{fact.store}:{fact.receipt_id}", str(fact.line_no))
    if alert_id in state.alerted:
        return state, []
    alert = _variance_alert(fact, alert_id, below, causes[fact.cause])
    return state.model_copy(update={"alerted": [*state.alerted, alert_id][-SEEN_KEPT:]}), [alert]


def _variance_alert(fact: TillVariance, alert_id: str, below: int, today: int) -> Alert:
    stale = fact.cause == "stale_snapshot"
    cashier = fact.cashier_id if not stale else None
    evidence = {
        "store": fact.store, "receipt_id": fact.receipt_id, "line_no": fact.line_no, "sku": fact.sku,
        "quantity": fact.quantity, "terminal_id": fact.terminal_id, "cashier_id": fact.cashier_id,
        "cause": fact.cause, "charged_cents": fact.charged_cents, "expected_cents": fact.expected_cents,
        "below_cents": below, "till_price_cents": fact.charged_unit_price_cents,
        "central_price_cents": fact.expected_unit_price_cents, "till_snapshot_version": fact.till_snapshot_version,
        "centre_snapshot_version": fact.centre_snapshot_version, "store_lines_today": today,
        "variance_id": fact.variance_id, "event_id": fact.event_id,
    }
    by = f"by cashier {fact.cashier_id} " if fact.cashier_id else ""
    summary = (f"{fact.sku} line of {fact.quantity} charged {fact.charged_cents / 100:.2f} {by}at {fact.store}, "
               f"the centre prices it {fact.expected_cents / 100:.2f} ({fact.cause.replace('_', ' ')})")
    if stale:
        summary += (f": till on price book {fact.till_snapshot_version}, centre {fact.centre_snapshot_version}; "
                    "an operations issue, not the cashier's")
    return Alert(
        alert_id=alert_id, rule="till_price_below_central",
        severity="low" if stale else "high" if below * 2 >= fact.expected_cents else "medium",
        entity_kind="cashier" if cashier else "store", entity_id=cashier or fact.store,
        window_start=fact.occurred_at, window_end=fact.occurred_at, evidence=[evidence], summary=summary[:500],
    )
