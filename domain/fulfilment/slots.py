"""When a node can take an order: its facts compiled once, and the earliest capacity slot that is free. Pure.

Opening hours are shared by many nodes (a chain has a few patterns), so the open slots of the
next `SLOTS_AHEAD` hours are computed once per pattern and starting hour and then reused; the
compiled node and those slot lists are memoised by identity of immutable inputs, so repeated
decisions read tuples instead of parsing `HH:MM` and converting time zones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.fulfilment.capacity import SLOT, closes_at, is_open, slot_of
from domain.fulfilment.costs import DAY_S, radians
from domain.fulfilment.memo import ByIdentity
from streams.fulfilment import Method, NodeDefined, PromiseClass

SLOTS_AHEAD = 48  # the capacity slots searched: two days covers a weekend's closed Sunday evening
HOUR_S = 3600
_MEMO_LIMIT = 50_000

FreeCapacity = Callable[[str, Method, datetime], int]
Pattern = tuple[str, tuple[tuple[int, str, str], ...]]


@dataclass(frozen=True, slots=True)
class Site:
    """A node's facts as the search reads them."""

    node: NodeDefined
    id: str
    kind: str
    active: bool
    methods: frozenset[str]
    point: tuple[float, float, float]
    prep_s: int
    protected: int  # units per SKU a store keeps for walk-ins; other kinds keep none
    counts_units: frozenset[str]  # methods whose capacity is counted in units, not orders
    hours: int  # the node's opening-hours pattern, numbered: nodes with the same hours share slot lists


@dataclass(slots=True)
class Slot:
    """The slot a shipment is picked in: when it starts, when it is ready, and the promise it must meet."""

    start: datetime
    start_ts: float
    ready_ts: float
    deadline_ts: float


@dataclass(slots=True)
class Window:
    """One decision's view of time: what it searches and the answers it already has."""

    method: Method
    at: datetime
    at_ts: float
    slot0_ts: float
    same_day: bool  # the promise is today, before the node closes
    deadline_ts: float  # standard and express; same-day promises use each node's closing time
    free: FreeCapacity
    reached: dict[tuple[str, int], Slot | str] = field(default_factory=dict)


def window(method: Method, promise: PromiseClass, at: datetime, promise_s: int, free: FreeCapacity) -> Window:
    at_ts = at.timestamp()
    return Window(method=method, at=at, at_ts=at_ts, slot0_ts=slot_of(at).timestamp(), same_day=promise == "same_day",
                  deadline_ts=_end_of_day(at_ts + promise_s), free=free)


def promise_deadline(at: datetime, promise_s: int) -> datetime:
    """When a delivery promised within `promise_s` seconds' worth of days must have arrived."""
    return datetime.fromtimestamp(_end_of_day(at.timestamp() + promise_s), UTC)


def _end_of_day(ts: float) -> float:
    """A promise of N days is kept by the end of the N-th day (UTC): next-day delivery of an order
    placed at 23:15 arrives the day after, at any hour."""
    return (ts // DAY_S + 1) * DAY_S - 1


_patterns: dict[Pattern, int] = {}  # never forgotten: a Site keeps its number for life
_open: dict[tuple[int, float], tuple[tuple[float, datetime], ...]] = {}
_closes: dict[tuple[int, date], float | None] = {}


def _compile(node: NodeDefined) -> Site:
    pattern = (node.timezone, tuple((h.weekday, h.opens, h.closes) for h in node.hours))
    return Site(node=node, id=node.node_id, kind=node.kind, active=node.active, methods=frozenset(node.methods),
                point=radians(node.lat, node.lon), prep_s=node.prep_minutes * 60,
                protected=node.protected_units if node.kind == "store" else 0,
                counts_units=frozenset(c.method for c in node.capacity if c.unit == "units"),
                hours=_patterns.setdefault(pattern, len(_patterns)))


site_of = ByIdentity(_compile, limit=_MEMO_LIMIT)  # the compiled facts of a NodeDefined, built once per event


def reach(site: Site, need: int, w: Window) -> Slot | str:
    """The earliest slot with `need` capacity units free that meets the promise, or why there is none:
    `closed` (no open slot in reach), `no_capacity` (open, all full), `too_far_for_promise`."""
    key = (site.id, need)
    known = w.reached.get(key)
    if known is None:
        known = w.reached[key] = _reach(site, need, w)
    return known


def _reach(site: Site, need: int, w: Window) -> Slot | str:
    opens = open_slots(site, w.slot0_ts)
    if w.same_day:
        close = _close_today(site, w.at)
        if close is None:
            return "closed"
        deadline, latest = close, close - site.prep_s
    else:
        deadline = latest = w.deadline_ts
    usable = False
    for start_ts, start in opens if w.at_ts <= latest else ():
        if start_ts > latest:
            break
        usable = True
        if w.free(site.id, w.method, start) >= need:
            return Slot(start=start, start_ts=start_ts, ready_ts=max(start_ts, w.at_ts) + site.prep_s,
                        deadline_ts=deadline)
    if usable:
        return "no_capacity"
    if w.same_day and any(start_ts < deadline for start_ts, _ in opens):
        return "too_far_for_promise"  # open today, but it cannot be ready before it closes
    return "closed"


def open_slots(site: Site, slot0_ts: float) -> tuple[tuple[float, datetime], ...]:
    """The open one-hour slots among the `SLOTS_AHEAD` from `slot0_ts` on: a slot counts when the node
    is open for the whole of it, as the capacity opener opens it."""
    key = (site.hours, slot0_ts)
    known = _open.get(key)
    if known is None:
        if len(_open) >= _MEMO_LIMIT:
            _open.clear()
        zone = ZoneInfo(site.node.timezone)
        first = datetime.fromtimestamp(slot0_ts, UTC)
        starts = (first + i * SLOT for i in range(SLOTS_AHEAD))
        known = _open[key] = tuple((s.timestamp(), s) for s in starts if _open_through(site.node, s, zone))
    return known


def _open_through(node: NodeDefined, start: datetime, zone: ZoneInfo) -> bool:
    return is_open(node, start, zone) and is_open(node, start + SLOT - timedelta(seconds=1), zone)


def _close_today(site: Site, at: datetime) -> float | None:
    today = at.astimezone(ZoneInfo(site.node.timezone)).date()
    key = (site.hours, today)
    if key not in _closes:
        if len(_closes) >= _MEMO_LIMIT:
            _closes.clear()
        closing = closes_at(site.node, today)
        _closes[key] = None if closing is None else closing.timestamp()
    return _closes[key]
