"""A simulated day with fraud judged in-process, in send order: the fraud stage without Kafka.

Every event goes through `facts_for` and `judge`, keeping each entity's state as the fraud
table would. Two inputs come from other stages in the pipeline and are emulated here:

- The purchase history that `buy_earn_return` reads comes from identity resolution: a sale
  with a card is a `PurchaseRecorded` purchase of the customer `customer_id_for(hashed card)`
  (as if the card were the first identifier the customer was known by), and a return citing
  such a sale is that customer's return.
- The pricing variances that `till_price_below_central` reads come from the pricing stage,
  which re-prices every till sale with the price book: here `CentreReprice` re-prices each
  till line at the central price announced on `pricing.changes` (the store's own list first,
  else the base list) and takes the line's discount as the centre's (the simulator's
  promotions are the legacy `promotion.changed`, applied the same at every till; it stamps no
  sale). A line charged below that is a `pricing.variance`, through `facts_for_variance` as the
  pricing stage sends it: `price_override` when the cashier keyed the price, else `unstamped`.
  SKUs whose price was never announced (the catalogue's opening prices are not events) are not
  re-priced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.fraud import Alert, FraudRules
from domain.fraud_facts import facts_for, facts_for_variance
from domain.fraud_judge import Stored, WaitingIndex, expire, judge, key_of, settle_waiting
from domain.identity import customer_id_for, hashed, normalise, purchase_key_of_sale
from domain.ids import derived_id
from sim.config import SimConfig
from sim.day import simulate
from sim.fraud import FraudCase
from streams.base import Event
from streams.customers import PurchaseLine, PurchaseRecorded
from streams.pos import PosReturn, PosSale
from streams.pricing import PriceChanged
from streams.redemptions import PricingVariance


@dataclass(frozen=True)
class OfflineRun:
    alerts: list[Alert]
    labels: list[FraudCase]
    events: int


def run_offline(config: SimConfig, rules: FraudRules, identity_key: bytes) -> OfflineRun:
    labels: list[FraudCase] = []
    states: dict[str, Stored] = {}
    waiting, watermark = WaitingIndex(), None
    history = PurchaseHistory(identity_key)
    centre = CentreReprice()
    alerts: list[Alert] = []
    for _, _, event in simulate(config, labels, identity_key):
        variances = [fact for variance in centre.variances(event) for fact in facts_for_variance(variance)]
        for fact in [*facts_for(event, identity_key), *history.records(event), *variances]:
            table_key = key_of(fact)
            judged = judge(states.get(table_key), fact, rules)
            if judged.state is not None:
                states[table_key] = judged.state
            alerts += judged.alerts
            watermark = max(watermark or fact.occurred_at, fact.occurred_at)  # one partition; sent as it happens
            waiting, expired = settle_waiting(waiting, table_key, fact, judged, watermark, rules, states.get)
            for receipt, overdue in expired.items():
                states[receipt] = overdue.state or states[receipt]
                alerts += overdue.alerts
    for key in sorted(waiting.since):  # the day is over: the grace passes for what still waits
        stored = states[key]
        assert stored is not None  # only keys with a stored state wait
        alerts += expire(key, stored, rules).alerts
    return OfflineRun(alerts, labels, config.events)


class PurchaseHistory:
    """The emulated `customer.purchase` records: carded sales and the returns citing them."""

    def __init__(self, identity_key: bytes) -> None:
        self._key = identity_key
        self._owner: dict[str, str] = {}  # purchase key -> customer id

    def records(self, event: Event) -> list[Event]:
        if isinstance(event, PosSale) and event.customer is not None:
            ref = event.customer
            customer = customer_id_for(hashed(ref.kind, normalise(ref.kind, ref.value), self._key))
            purchase = purchase_key_of_sale(event.source_node, event.receipt_id)
            self._owner[purchase] = customer
            lines = [(line.line_no, line.sku, line.quantity, line.net_cents) for line in event.lines]
            return [self._record(event, customer, "purchase", purchase, lines)]
        if isinstance(event, PosReturn) and event.original_receipt_id is not None:
            purchase = purchase_key_of_sale(event.original_node or event.source_node, event.original_receipt_id)
            if purchase in self._owner:
                lines = [(line.line_no, line.sku, line.quantity, line.refund_cents) for line in event.lines]
                return [self._record(event, self._owner[purchase], "return", purchase, lines)]
        return []

    def _record(self, event: PosSale | PosReturn, customer: str, kind: str, purchase: str,
                lines: list[tuple[int, str, int, int]]) -> PurchaseRecorded:
        return PurchaseRecorded(
            event_id=derived_id(event.event_id, f"history-{kind}"), occurred_at=event.occurred_at,
            source_node=event.source_node, customer_id=customer, kind=kind,  # type: ignore[arg-type]
            purchase_key=purchase, source_event_id=event.event_id, channel="store", node=event.source_node,
            lines=[PurchaseLine(line_no=n, sku=sku, quantity=q, net_cents=c) for n, sku, q, c in lines],
        )


class CentreReprice:
    """The emulated `pricing.variance` records: till lines charged below the announced price."""

    def __init__(self) -> None:
        self._prices: dict[tuple[str, str], list[tuple[datetime, int, int]]] = {}  # (list, sku) -> dated prices
        self._version = 0  # price changes seen: the emulated book's snapshot version

    def variances(self, event: Event) -> list[PricingVariance]:
        if isinstance(event, PriceChanged):
            self._version += 1
            dated = (event.effective_from, self._version, event.price_cents)  # the later announced wins a tie
            self._prices.setdefault((event.list_id, event.sku), []).append(dated)
            return []
        if not isinstance(event, PosSale):
            return []
        out = []
        for line in event.lines:
            unit = self._price(line.sku, event.source_node, event.occurred_at)
            if unit is None or unit == line.unit_price_cents:
                continue
            expected = unit * line.quantity - line.discount_cents
            out.append(PricingVariance(
                event_id=derived_id(event.event_id, f"variance-{line.line_no}"), occurred_at=event.occurred_at,
                source_node="pricing", receipt_id=event.receipt_id, store=event.source_node,
                terminal_id=event.terminal_id, cashier_id=event.cashier_id, line_no=line.line_no, sku=line.sku,
                quantity=line.quantity, charged_cents=line.net_cents, expected_cents=expected,
                variance_cents=line.net_cents - expected, charged_unit_price_cents=line.unit_price_cents,
                expected_unit_price_cents=unit,
                till_snapshot_version=event.pricing.snapshot_version if event.pricing else None,
                centre_snapshot_version=self._version,
                cause="price_override" if line.price_overridden else "unstamped" if event.pricing is None
                else "unexplained",
            ))
        return out

    def _price(self, sku: str, store: str, at: datetime) -> int | None:
        for list_id in (f"node:{store}", "base"):
            dated = [p for p in self._prices.get((list_id, sku), []) if p[0] <= at]
            if dated:
                return max(dated)[2]
        return None
