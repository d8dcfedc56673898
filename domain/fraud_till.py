"""Till fraud rules: a cashier's exceptions far above their store's norm, and till prices below
the central price. Pure: state in, state and alerts out.

`cashier_exceptions` (key `store:<store>`): per store and day, each cashier's sales and
exceptions (post-voids, price overrides, refunds without a receipt). When a cashier's exception
makes their rate over the last `cashier_window_days` days at least `cashier_min_rate`, with at
least `cashier_min_exceptions` exceptions, and at least `cashier_norm_factor` times the rate of the
store's other cashiers over the same days, the cashier is flagged, once per cashier and day.

`till_price_below_central` (key `sku:<sku>`): a till charged less per unit than the central price
in force for that store at that moment (a node's own price first, else the chain-wide one), by
more than `price_tolerance_percent`. Once per receipt line.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import Field

from domain.fraud import Alert, FraudRules
from domain.ids import derived_id
from streams.base import Record, UtcDatetime
from streams.fraud import CentralPrice, TillActivity, TillPrice

EXCEPTIONS = ("void", "price_override", "no_receipt_refund")
SEEN_KEPT = 256  # ids of recent facts, so a redelivered one is not counted twice
PRICE_KEPT = timedelta(days=7)  # how late a till price may arrive and still meet the price it was charged under


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


class Price(Record):
    node: str | None = None
    price_cents: int
    effective_from: UtcDatetime


class SkuState(Record):
    prices: list[Price] = Field(default_factory=list)  # per node, by effective_from: the ones a till may still need
    as_of: UtcDatetime | None = None  # the newest central price change's occurred_at
    waiting: list[TillPrice] = Field(default_factory=list)  # till prices waiting for late central prices


def till_price_seen(state: SkuState | None, fact: TillPrice) -> SkuState:
    """A till price waits (`join_grace`) for central prices still on their way, then `judge_waiting`."""
    state = state or SkuState()
    if any(w.event_id == fact.event_id for w in state.waiting):
        return state
    return state.model_copy(update={"waiting": [*state.waiting, fact]})


# A SKU's till prices waiting for late central prices, at most: the state must stay below Kafka's
# 1 MB record limit (~300 bytes each: 2,500 are ~750 KB). Everything routed within `join_grace`
# of append time waits, so a fast catch-up holds a popular SKU's whole day: 925 KB for one SKU in
# bench.pipeline's 20,000 events crashed the worker. Judging early is a cut grace: a till price
# judged before a late price drop arrives is a false alert (with a cap of 256 the demo's day,
# 1,812 till sales of its top SKU, raised 502), so the cap sits well above a store day's volume.
MAX_WAITING = 2_500


def judge_overflow(state: SkuState, rules: FraudRules) -> tuple[SkuState, list[Alert]]:
    """Beyond MAX_WAITING, the oldest waiting till prices are judged now, against the central
    prices known so far (their grace is cut short: a price still on its way is missed)."""
    if len(state.waiting) <= MAX_WAITING:
        return state, []
    early, kept = state.waiting[:-MAX_WAITING], state.waiting[-MAX_WAITING:]
    alerts = [alert for fact in early for alert in till_price(state, fact, rules)]
    return state.model_copy(update={"waiting": kept}), alerts


def judge_waiting(state: SkuState, rules: FraudRules) -> tuple[SkuState, list[Alert]]:
    alerts = [alert for fact in state.waiting for alert in till_price(state, fact, rules)]
    return state.model_copy(update={"waiting": []}), alerts


def central_price(state: SkuState | None, fact: CentralPrice) -> SkuState:
    state = state or SkuState()
    price = Price(node=fact.node, price_cents=fact.price_cents, effective_from=fact.effective_from)
    if price in state.prices:
        return state
    as_of = max(fact.occurred_at, state.as_of or fact.occurred_at)
    prices = sorted([*state.prices, price], key=lambda p: (p.node or "", p.effective_from))
    # A price is forgotten once the node's next one has been in force for PRICE_KEPT: a till up to
    # that late still finds the price it charged against, and announced later prices stay.
    kept = [p for p, later in zip(prices, [*prices[1:], None], strict=True)
            if later is None or later.node != p.node or later.effective_from > as_of - PRICE_KEPT]
    return state.model_copy(update={"prices": kept, "as_of": as_of})  # till prices keep waiting


def price_in_force(state: SkuState, node: str, at: datetime) -> Price | None:
    for scope in (node, None):
        candidates = [p for p in state.prices if p.node == scope and p.effective_from <= at]
        if candidates:
            return max(candidates, key=lambda p: p.effective_from)
    return None


def till_price(state: SkuState | None, fact: TillPrice, rules: FraudRules) -> list[Alert]:
    central = price_in_force(state or SkuState(), fact.store, fact.occurred_at)
    if central is None:
        return []
    floor = central.price_cents * (100 - rules.price_tolerance_percent) / 100
    if fact.unit_price_cents >= floor:
        return []
    below = central.price_cents - fact.unit_price_cents
    return [Alert(
        alert_id=derived_id(f"till_price_below_central:{fact.store}:{fact.receipt_id}", str(fact.line_no)),
        rule="till_price_below_central", severity="high" if below * 2 >= central.price_cents else "medium",
        entity_kind="cashier", entity_id=fact.cashier_id, window_start=fact.occurred_at, window_end=fact.occurred_at,
        evidence=[{"store": fact.store, "receipt_id": fact.receipt_id, "line_no": fact.line_no, "sku": fact.sku,
                   "till_price_cents": fact.unit_price_cents, "central_price_cents": central.price_cents,
                   "central_since": central.effective_from.isoformat(), "event_id": fact.event_id}],
        summary=(f"{fact.sku} sold at {fact.unit_price_cents / 100:.2f} by cashier {fact.cashier_id} at "
                 f"{fact.store}, central price {central.price_cents / 100:.2f}"),
    )]
