"""One entry point for the fraud agent: a fact (or a purchase-history record) and its entity's
stored state in, the state to store and the alerts out. Pure. States are frozen models; the
stage keeps them as objects between checkpoints and the table as JSON (`stored_json`), and
every function here takes either form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import Field

from domain.fraud import Alert, FraudRules, WindowState, link, redemption
from domain.fraud_returns import LoopState, ReceiptState, overdue, purchase, purchase_history, returned
from domain.fraud_till import StoreState, VarianceState, till_activity, till_variance
from streams.base import Event, Record, UtcDatetime
from streams.customers import PurchaseRecorded
from streams.fraud import (
    FraudAlert,
    FraudTick,
    LinkSeen,
    PurchaseSeen,
    RedemptionSeen,
    ReturnSeen,
    TillActivity,
    TillVariance,
    entity_key,
)

ALERTS_NODE = "fraud"  # the source_node of alerts: the fraud stage itself


Stored = str | Record | None  # an entity's state: JSON as the table keeps it, or the model itself


@dataclass(frozen=True)
class Judged:
    state: Record | None  # the state to store, or None to leave the stored state as it is
    alerts: list[Alert] = field(default_factory=list)
    waiting: bool = False  # the state holds a return waiting for its sale


def key_of(event: Event) -> str:
    """The fraud table key of a fact or a purchase-history record."""
    if isinstance(event, PurchaseRecorded):
        return f"loop:{event.customer_id}"
    return entity_key(event)


def judge(stored: Stored, event: Event, rules: FraudRules) -> Judged:
    match event:
        case TillActivity():
            store, alerts = till_activity(_load(StoreState, stored), event, rules)
            return Judged(store, alerts)
        case PurchaseSeen():
            receipt, alerts = purchase(_load(ReceiptState, stored), event, rules)
            return Judged(receipt, alerts)
        case ReturnSeen():
            receipt, alerts = returned(_load(ReceiptState, stored), event, rules)
            return Judged(receipt, alerts, waiting=bool(receipt.waiting))
        case TillVariance():
            variances, alerts = till_variance(_load(VarianceState, stored), event, rules)
            return Judged(variances, alerts)
        case RedemptionSeen():
            verdict = redemption(_load(WindowState, stored), event.identifier, event.event_id, event.store,
                                 event.points, event.occurred_at, rules)
            return Judged(verdict.state, verdict.alerts)
        case LinkSeen():
            verdict = link(_load(WindowState, stored), event.identifier, event.known, event.event_id,
                           event.occurred_at, rules, event.identifier_kind)
            return Judged(verdict.state, verdict.alerts)
        case FraudTick():
            return Judged(None)  # only its append time matters (settle_waiting)
        case PurchaseRecorded():
            loops, alerts = purchase_history(_load(LoopState, stored), event, rules)
            return Judged(loops, alerts)
    raise ValueError(f"{type(event).__name__} is not judged by the fraud rules")


def expire(key: str, stored: str | Record, rules: FraudRules) -> Judged:
    """The grace is over for what waits under `key`: returns judged without their sale (if it
    never came). Only receipts wait; any other key in an index (`sku:` keys of the till-price
    rule this replaced) is dropped from it, its state left as it is."""
    if not key.startswith("receipt:"):
        return Judged(None)
    receipt, alerts = overdue(_known(ReceiptState, stored), rules)
    return Judged(receipt, alerts)


def is_waiting(key: str, stored: Stored) -> bool:
    if stored is None:
        return False
    if key.startswith("receipt:"):
        return _known(ReceiptState, stored).waiting != []
    return False


def stored_json(state: str | Record) -> str:
    """A state as the table keeps it."""
    return state if isinstance(state, str) else state.model_dump_json()


class WaitingIndex(Record):
    """Per partition of `fraud.facts`: keys with facts waiting (returns for their sale), and since
    when (the append time of the first waiting fact)."""

    since: dict[str, UtcDatetime] = Field(default_factory=dict)

    def due(self, watermark: datetime, grace: timedelta) -> list[str]:
        return sorted(key for key, at in self.since.items() if at + grace <= watermark)


def waiting_key(partition: int) -> str:
    return f"waiting:{partition}"


def settle_waiting(
    index: WaitingIndex, key: str, event: Event, judged: Judged, appended: datetime, rules: FraudRules,
    read: Callable[[str], Stored],
) -> tuple[WaitingIndex, dict[str, Judged]]:
    """After `event` (stored under `key`, as `judge` left it), appended to its partition at `appended`:
    the partition's index of keys with waiting facts, and the keys whose grace is over, judged
    (store them, send their alerts). Grace runs on append time, which the router stamps as it
    re-keys, so a catch-up that re-keys a day in seconds still meets sales in time."""
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


T = TypeVar("T", StoreState, ReceiptState, VarianceState, WindowState, LoopState)


def _load(model: type[T], stored: Stored) -> T | None:
    return None if stored is None else _known(model, stored)


def _known(model: type[T], stored: str | Record) -> T:
    if isinstance(stored, model):
        return stored
    if isinstance(stored, str):
        return model.model_validate_json(stored)
    raise TypeError(f"a {model.__name__} was expected, got a {type(stored).__name__}")


def alert_event(alert: Alert) -> FraudAlert:
    """The alert as it travels on `fraud.alerts`: its id is the event id, so replays deduplicate."""
    return FraudAlert(
        event_id=alert.alert_id, occurred_at=alert.window_end, source_node=ALERTS_NODE, alert_id=alert.alert_id,
        rule=alert.rule, severity=alert.severity, entity_kind=alert.entity_kind, entity_id=alert.entity_id,
        window_start=alert.window_start, window_end=alert.window_end, summary=alert.summary,
        evidence=alert.evidence,
    )
