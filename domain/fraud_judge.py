"""One entry point for the fraud agent: a fact (or a purchase-history record) and its entity's
stored state in, the state to store and the alerts out. Pure; states travel as JSON, as the
table keeps them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import Field

from domain.fraud import Alert, FraudRules, WindowState, link, redemption
from domain.fraud_returns import LoopState, ReceiptState, overdue, purchase, purchase_history, returned
from domain.fraud_till import (
    SkuState,
    StoreState,
    central_price,
    judge_overflow,
    judge_waiting,
    till_activity,
    till_price_seen,
)
from streams.base import Event, Record, UtcDatetime
from streams.customers import PurchaseRecorded
from streams.fraud import (
    CentralPrice,
    FraudAlert,
    FraudTick,
    LinkSeen,
    PurchaseSeen,
    RedemptionSeen,
    ReturnSeen,
    TillActivity,
    TillPrice,
    entity_key,
)

ALERTS_NODE = "fraud"  # the source_node of alerts: the fraud stage itself


@dataclass(frozen=True)
class Judged:
    state: str | None  # JSON to store, or None to leave the stored state as it is
    alerts: list[Alert] = field(default_factory=list)
    waiting: bool = False  # the state holds a return or till price waiting for its sale or price


def key_of(event: Event) -> str:
    """The fraud table key of a fact or a purchase-history record."""
    if isinstance(event, PurchaseRecorded):
        return f"loop:{event.customer_id}"
    return entity_key(event)


def judge(stored: str | None, event: Event, rules: FraudRules) -> Judged:
    match event:
        case TillActivity():
            store, alerts = till_activity(_load(StoreState, stored), event, rules)
            return Judged(_dump(store), alerts)
        case PurchaseSeen():
            receipt, alerts = purchase(_load(ReceiptState, stored), event, rules)
            return Judged(_dump(receipt), alerts)
        case ReturnSeen():
            receipt, alerts = returned(_load(ReceiptState, stored), event, rules)
            return Judged(_dump(receipt), alerts, waiting=bool(receipt.waiting))
        case CentralPrice():
            return Judged(_dump(central_price(_load(SkuState, stored), event)))
        case TillPrice():
            sku = till_price_seen(_load(SkuState, stored), event)
            sku, alerts = judge_overflow(sku, rules)
            return Judged(_dump(sku), alerts, waiting=bool(sku.waiting))
        case RedemptionSeen():
            verdict = redemption(_load(WindowState, stored), event.identifier, event.event_id, event.store,
                                 event.points, event.occurred_at, rules)
            return Judged(_dump(verdict.state), verdict.alerts)
        case LinkSeen():
            verdict = link(_load(WindowState, stored), event.identifier, event.known, event.event_id,
                           event.occurred_at, rules, event.identifier_kind)
            return Judged(_dump(verdict.state), verdict.alerts)
        case FraudTick():
            return Judged(None)  # only its append time matters (settle_waiting)
        case PurchaseRecorded():
            loops, alerts = purchase_history(_load(LoopState, stored), event, rules)
            return Judged(_dump(loops), alerts)
    raise ValueError(f"{type(event).__name__} is not judged by the fraud rules")


def expire(key: str, stored: str, rules: FraudRules) -> Judged:
    """The grace is over for what waits under `key`: returns judged without their sale (if it
    never came), till prices against the central prices known now."""
    if key.startswith("sku:"):
        sku, alerts = judge_waiting(SkuState.model_validate_json(stored), rules)
        return Judged(_dump(sku), alerts)
    receipt, alerts = overdue(ReceiptState.model_validate_json(stored), rules)
    return Judged(_dump(receipt), alerts)


def is_waiting(key: str, stored: str | None) -> bool:
    if stored is None:
        return False
    if key.startswith("sku:"):
        return SkuState.model_validate_json(stored).waiting != []
    if key.startswith("receipt:"):
        return ReceiptState.model_validate_json(stored).waiting != []
    return False


class WaitingIndex(Record):
    """Per partition of `fraud.facts`: keys with facts waiting (returns for their sale, till prices
    for late central prices), and since when (the append time of the first waiting fact)."""

    since: dict[str, UtcDatetime] = Field(default_factory=dict)

    def due(self, watermark: datetime, grace: timedelta) -> list[str]:
        return sorted(key for key, at in self.since.items() if at + grace <= watermark)


def waiting_key(partition: int) -> str:
    return f"waiting:{partition}"


def settle_waiting(
    index: WaitingIndex, key: str, event: Event, judged: Judged, appended: datetime, rules: FraudRules,
    read: Callable[[str], str | None],
) -> tuple[WaitingIndex, dict[str, Judged]]:
    """After `event` (stored under `key`, as `judge` left it), appended to its partition at `appended`:
    the partition's index of keys with waiting facts, and the keys whose grace is over, judged
    (store them, send their alerts). Grace runs on append time, which the router stamps as it
    re-keys, so a catch-up that re-keys a day in seconds still meets sales and prices in time."""
    since = dict(index.since)
    if judged.waiting and key not in since:
        since[key] = appended
    elif isinstance(event, PurchaseSeen):
        since.pop(key, None)  # the sale judged what waited
    expired: dict[str, Judged] = {}
    for waiting in WaitingIndex(since=since).due(appended, rules.join_grace):
        stored = read(waiting)
        if stored is not None:
            expired[waiting] = expire(waiting, stored, rules)
        del since[waiting]
    return WaitingIndex(since=since), expired


T = TypeVar("T", StoreState, ReceiptState, SkuState, WindowState, LoopState)


# Parsed states by their JSON: states are frozen, and the stage hands back the very string `judge`
# returned, so the next record of the same entity skips parsing it (a quarter of a worker's CPU
# in bench.pipeline went to parsing fraud states). Bounded; a miss only parses again.
_PARSED_MAX = 50_000
_parsed: dict[tuple[type, str], Record] = {}


def _load(model: type[T], stored: str | None) -> T | None:
    if stored is None:
        return None
    found = _parsed.get((model, stored))
    if found is None:
        found = model.model_validate_json(stored)
        _remember(model, stored, found)
    return found  # type: ignore[return-value]


def _dump(state: Record) -> str:
    stored = state.model_dump_json()
    _remember(type(state), stored, state)
    return stored


def _remember(model: type, stored: str, state: Record) -> None:
    if len(_parsed) >= _PARSED_MAX:
        _parsed.clear()
    _parsed[(model, stored)] = state


def alert_event(alert: Alert) -> FraudAlert:
    """The alert as it travels on `fraud.alerts`: its id is the event id, so replays deduplicate."""
    return FraudAlert(
        event_id=alert.alert_id, occurred_at=alert.window_end, source_node=ALERTS_NODE, alert_id=alert.alert_id,
        rule=alert.rule, severity=alert.severity, entity_kind=alert.entity_kind, entity_id=alert.entity_id,
        window_start=alert.window_start, window_end=alert.window_end, summary=alert.summary,
        evidence=alert.evidence,
    )
