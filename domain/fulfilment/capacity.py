"""Pick-and-pack capacity as positions of the stock authority: one capacity SKU per node, method and hour. Pure.

A node's capacity for one method in one one-hour slot is a position of a reserved SKU
(`CAP-<node digest>-<method letter>-<YYMMDDHH>`, the slot's start in UTC) at that node. The
opener receives the slot's capacity into it; an order's plan holds units of it next to the
stock it holds, through the same authority, so capacity gets the same hold semantics (place,
commit, release, expire; once per hold id) and the same all-or-nothing order saga, and can
never be over-committed. One SKU per node keeps each key's holds bounded by that node's capacity.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from streams.fulfilment import Method, NodeDefined, SlotCapacity

PREFIX = "CAP-"
SLOT = timedelta(hours=1)
LETTER: dict[Method, str] = {"ship": "S", "same_day": "D", "pickup": "P"}
METHOD_OF_LETTER: dict[str, Method] = {letter: method for method, letter in LETTER.items()}


_SHAPE = re.compile(r"^CAP-[0-9A-F]{8}-[SDP]-[0-9]{8}$")


def is_capacity(sku: str) -> bool:
    """Exactly the shape `capacity_sku` builds: a product called `CAP-RED-XL` is stock."""
    return sku.startswith(PREFIX) and _SHAPE.match(sku) is not None


def capacity_sku(node: str, method: Method, slot_start: datetime) -> str:
    digest = hashlib.blake2b(node.encode(), digest_size=4).hexdigest().upper()
    return f"{PREFIX}{digest}-{LETTER[method]}-{slot_start.astimezone(UTC):%y%m%d%H}"


def parse(sku: str) -> tuple[Method, datetime]:
    """The method and slot start of a capacity SKU."""
    _, _, letter, stamp = sku.split("-")
    return METHOD_OF_LETTER[letter], datetime.strptime(stamp, "%y%m%d%H").replace(tzinfo=UTC)


def slot_of(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


def capacity_for(node: NodeDefined, method: Method) -> SlotCapacity | None:
    return next((c for c in node.capacity if c.method == method), None)


def open_slots(node: NodeDefined, start: datetime, end: datetime) -> list[datetime]:
    """The one-hour slots (UTC starts) in [start, end) that lie wholly in the node's opening hours."""
    zone = ZoneInfo(node.timezone)
    slots = []
    slot = slot_of(start)
    if slot < start:
        slot += SLOT
    while slot < end:
        if is_open(node, slot, zone) and is_open(node, slot + SLOT - timedelta(seconds=1), zone):
            slots.append(slot)
        slot += SLOT
    return slots


def is_open(node: NodeDefined, at: datetime, zone: ZoneInfo | None = None) -> bool:
    local = at.astimezone(zone or ZoneInfo(node.timezone))
    clock = local.time()
    for hours in node.hours:
        if hours.weekday == local.weekday() and _hhmm(hours.opens) <= clock < _closing(hours.closes):
            return True
    return False


def closes_at(node: NodeDefined, day: date) -> datetime | None:
    """When the node closes on its local `day` (UTC), or None if it does not open that day."""
    zone = ZoneInfo(node.timezone)
    for hours in node.hours:
        if hours.weekday == day.weekday():
            if hours.closes == "24:00":
                return datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
            return datetime.combine(day, _hhmm(hours.closes), zone).astimezone(UTC)
    return None


def _hhmm(text: str) -> time:
    if text == "24:00":
        return time(23, 59, 59, 999_999)
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _closing(text: str) -> time:
    return time(23, 59, 59, 999_999) if text == "24:00" else _hhmm(text)
