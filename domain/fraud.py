"""Fraud signals as windowed rules over the unified streams. Pure: no Kafka, no clock.

Each rule keeps a small state per entity (a customer, an identifier, a cashier, a store) and
decides, event by event in the entity's own order, whether the window now shows the pattern.
An alert names the rule, a severity, the entity, the evidence (the events that make the
pattern, by id) and the window; its id derives from the rule, the entity and the first event
of the evidence, so a redelivered or replayed event raises the same alert again, never a
second one. An event that arrives late (after a newer one of the same entity, up to one window)
is judged with the windows it completes; an alert raised before it arrived keeps its name, so
the late event can add an alert for an overlapping window: consumers group alerts by entity
and time. Thresholds come from settings (`FraudRules`).

Rules so far:
- `redemption_velocity`: one customer redeems at `min_stores` or more different stores within
  `redemption_window` (points used up across town before the owner notices).
- `linked_accounts`: `min_accounts` or more different customers get linked to one phone,
  email or device within `link_window` (account farming, shared fraud phones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from domain.ids import derived_id
from streams.base import Record, UtcDatetime

Severity = Literal["low", "medium", "high"]
EntityKind = Literal["customer", "identifier", "cashier", "store", "device"]


@dataclass(frozen=True)
class FraudRules:
    """Every rule's thresholds (settings `OMNI_FRAUD_*` fill them in)."""

    redemption_window: timedelta = timedelta(minutes=30)
    redemption_min_stores: int = 3
    link_window: timedelta = timedelta(days=7)
    # How late in event time a fact may arrive and still meet the rest of its window. Facts are
    # re-keyed from several ingest partitions, which a catch-up (a restart, a backlog, the demo's
    # day published in a minute) reads at different paces: the live demo once saw a redemption
    # arrive after one 8 hours newer, and with only two windows kept the case was missed.
    lateness: timedelta = timedelta(days=1)
    link_min_accounts: int = 3
    return_tolerance_cents: int = 0  # a refund may exceed what the units were paid by this much
    join_grace: timedelta = timedelta(seconds=30)  # a return waits this long (append time) for the sale
    # it is judged against: they travel other partitions of the ingest topics
    loop_window: timedelta = timedelta(days=30)
    loop_return_within: timedelta = timedelta(days=14)
    loop_min_returns: int = 3
    cashier_window_days: int = 7
    cashier_min_exceptions: int = 5
    cashier_min_sales: int = 10  # fewer sales in the window: too little to judge (a supervisor who only voids)
    cashier_min_rate: float = 0.05  # exceptions per sale
    cashier_norm_factor: float = 3.0  # times the store's other cashiers' rate
    price_tolerance_percent: int = 0  # a till line this far (% of the centre's price) below it is not flagged


def rules_from(values: dict[str, str]) -> FraudRules:
    """The thresholds from settings (`OMNI_FRAUD_*`, prefix dropped, lower case); missing ones keep defaults.

    A name ending in `_seconds`, `_minutes` or `_days` sets the window field without that suffix."""
    defaults = FraudRules()
    fields: dict[str, Any] = {}
    for name, raw in values.items():
        try:
            if hasattr(defaults, name):
                default = getattr(defaults, name)
                fields[name] = int(raw) if isinstance(default, int) else float(raw)
                continue
            base, _, unit = name.rpartition("_")
            if not isinstance(getattr(defaults, base, None), timedelta) or unit not in ("seconds", "minutes", "days"):
                raise ValueError("no such threshold")
            fields[base] = timedelta(**{unit: float(raw)})
        except ValueError as err:
            raise ValueError(f"OMNI_FRAUD_{name.upper()}={raw!r} is not a valid threshold: {err}") from err
    return FraudRules(**fields)


class Alert(Record):
    alert_id: str
    rule: str
    severity: Severity
    entity_kind: EntityKind
    entity_id: str
    window_start: UtcDatetime
    window_end: UtcDatetime
    evidence: list[dict[str, Any]] = Field(min_length=1)
    summary: str


class Seen(Record):
    """One event a rule keeps in its window."""

    event_id: str
    at: UtcDatetime
    key: str  # what the rule counts distinct: the store, the customer
    points: int = 0


class WindowState(Record):
    events: list[Seen] = Field(default_factory=list)  # inside the window, oldest first
    alerted: list[str] = Field(default_factory=list)  # alert ids raised (recent), so one pattern alerts once


@dataclass(frozen=True)
class Verdict:
    state: WindowState
    alerts: list[Alert] = field(default_factory=list)


MAX_KEPT = 256  # events per entity and rule: bounds state and work for an entity gone wild
MAX_ALERTED = 128  # alert ids remembered per entity and rule, so a re-judged window does not alert again


def _distinct_alert(
    state: WindowState, event: Seen, window: timedelta, minimum: int, rule: str, severity: Severity,
    entity_kind: EntityKind, entity_id: str, describe: str, lateness: timedelta = timedelta(0),
) -> Verdict:
    """Alert for every window of length `window` ending at a kept event that holds `minimum` or more
    distinct keys; a window's alert is named by its earliest event, so it is raised once."""
    if any(e.event_id == event.event_id for e in state.events):  # a redelivery: nothing new
        return Verdict(state)
    # Kept: `lateness` plus one window behind the newest event (two windows at least), so an event
    # up to `lateness` late still finds every event its own window (and the windows it completes)
    # need; at most the MAX_KEPT newest.
    newest = max([event.at, *(e.at for e in state.events)])
    kept_after = newest - max(2 * window, window + lateness)
    events = sorted([e for e in [*state.events, event] if e.at > kept_after], key=lambda e: (e.at, e.event_id))
    if len(events) > MAX_KEPT:
        events = events[-MAX_KEPT:]
        kept_after = max(kept_after, events[0].at - timedelta(microseconds=1))
    alerted, out = list(state.alerted), []
    for end in events:  # a late event can complete a window that ends after it
        if end.at - window < kept_after:
            continue  # part of that window is gone: it was judged while it was whole
        inside = [e for e in events if end.at - window < e.at <= end.at]
        distinct: dict[str, Seen] = {}
        for e in inside:
            distinct.setdefault(e.key, e)
        if len(distinct) < minimum:
            continue
        alert_id = derived_id(f"{rule}:{entity_id}", inside[0].event_id)
        if alert_id in alerted:
            continue
        alerted = [*alerted, alert_id][-MAX_ALERTED:]
        evidence = sorted(distinct.values(), key=lambda e: (e.at, e.event_id))
        out.append(Alert(
            alert_id=alert_id, rule=rule, severity=severity, entity_kind=entity_kind, entity_id=entity_id,
            window_start=inside[0].at, window_end=end.at, evidence=[e.model_dump(mode="json") for e in evidence],
            summary=describe.format(n=len(distinct), span=span(window)),
        ))
    return Verdict(WindowState(events=events, alerted=alerted), out)


def span(window: timedelta) -> str:
    """A window as a person says it: 30 minutes, 2 hours, 7 days."""
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def redemption(state: WindowState | None, customer_id: str, request_id: str, store: str, points: int,
               at: datetime, rules: FraudRules) -> Verdict:
    """A redemption hold granted to `customer_id` at `store`."""
    seen = Seen(event_id=request_id, at=at, key=store, points=points)
    return _distinct_alert(
        state or WindowState(), seen, rules.redemption_window, rules.redemption_min_stores, "redemption_velocity",
        "high", "customer", customer_id, "redemptions at {n} different stores within {span}", rules.lateness,
    )


def link(state: WindowState | None, identifier: str, customer_id: str, event_id: str, at: datetime,
         rules: FraudRules, kind: str = "identifier") -> Verdict:
    """`identifier` (hashed; `kind` phone, email, ... or device) was linked to `customer_id`.

    A device's alert names the device (entity kind `device`), any other identifier's names the
    identifier."""
    seen = Seen(event_id=event_id, at=at, key=customer_id)
    if kind == "device":
        entity: EntityKind = "device"
        describe = "{n} different accounts signed in on one device within {span}"
    else:
        entity, describe = "identifier", f"{{n}} different accounts linked to one {kind} within {{span}}"
    return _distinct_alert(
        state or WindowState(), seen, rules.link_window, rules.link_min_accounts, "linked_accounts", "medium",
        entity, identifier, describe, rules.lateness,
    )
