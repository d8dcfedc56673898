"""A purchase's record at identity resolution: whose it is, and what it earned and gave back. Pure.

Keyed by purchase key (`<store>/<receipt id>`, `order/<order id>`) on `identity.requests`,
beside the identifier records. It joins what arrives in any order on different paths:

- the attribution (hop 2 of `identity.purchase`: the customer, lines and values),
- the fulfilment of an online order (`identity.fulfil`: shipped or picked up),
- cancellations before it left (`identity.cancel`), returns in any store (`identity.return`).

Once a purchase has a customer and is complete it earns, once: one `loyalty.earn` per line
(lot `<purchase key>:<line no>`, net of cancelled units) to the customer's wallet, priced
there at the customer's tier, plus the line's promotion bonus points (`bonus_points`, from the
sale's pricing stamp; cancelled units take their share of them, rounded down like the spend).
A return claws back the returned units' share of the line's whole lot, base and bonus
(matched by SKU, first lines first, never more units than were bought) and takes their
spend out of the tier window; a return that arrives before the purchase is attributed waits
in the record. Each step also records the customer's purchase history (`customer.purchase`).
Outputs have ids derived from their causes, so a redelivered command repeats them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from pydantic import Field

from domain.ids import derived_id
from domain.loyalty_rules import clawback_points
from streams.base import Event, Record, UtcDatetime
from streams.customers import (
    AttributePurchase,
    CancelPurchase,
    FulfilPurchase,
    PurchaseLine,
    PurchaseRecorded,
    ReturnPurchase,
)
from streams.loyalty import ClawbackPoints, EarnPoints

PurchaseCommand = AttributePurchase | FulfilPurchase | CancelPurchase | ReturnPurchase


class PurchaseRecord(Record):
    customer_id: str | None = None
    purchase_event_id: str | None = None
    purchased_at: UtcDatetime | None = None
    channel: Literal["store", "web", "app"] = "store"
    node: str = "unknown"
    lines: list[PurchaseLine] = Field(default_factory=list)  # net of cancellations once earned
    fulfilled: bool = False
    fulfilled_at: UtcDatetime | None = None  # when an online order left: its points and spend date from then
    earned: bool = False
    cancelled: dict[str, int] = Field(default_factory=dict)  # sku -> units cancelled before it left
    cancellations: list[str] = Field(default_factory=list)  # cancel events applied (each counts once)
    # return event -> the return and the (its line no, purchase line no, units) it took: what it
    # clawed back, sent again when the return or the completion that applied it is redelivered
    returns: dict[str, tuple[ReturnPurchase, list[tuple[int, int, int]]]] = Field(default_factory=dict)
    waiting: list[ReturnPurchase] = Field(default_factory=list)  # returns before the attribution


@dataclass(frozen=True)
class PurchaseStep:
    record: PurchaseRecord
    out: list[Event] = field(default_factory=list)
    note: str | None = None


def settle(
    record: PurchaseRecord | None, command: PurchaseCommand, return_window: timedelta, key: str,
    lifetime: timedelta | None = None,
) -> PurchaseStep:
    """The purchase's next state and what it sends; `lifetime`: how long earned points live
    (expired in lots by the wallet, oldest first), None for points that never expire."""
    r = record or PurchaseRecord()
    match command:
        case AttributePurchase():
            if r.customer_id is None:
                r = r.model_copy(update={
                    "customer_id": command.customer_id, "purchase_event_id": command.purchase_event_id,
                    "purchased_at": command.purchased_at, "channel": command.channel, "node": command.node,
                    "lines": list(command.lines), "fulfilled": r.fulfilled or command.fulfilled,
                })
            return _complete(r, return_window, key, lifetime)
        case FulfilPurchase():
            if not r.fulfilled:
                r = r.model_copy(update={"fulfilled": True, "fulfilled_at": command.occurred_at})
            return _complete(r, return_window, key, lifetime)
        case CancelPurchase():
            if command.event_id in r.cancellations:
                return PurchaseStep(r)
            if r.earned:
                return PurchaseStep(r, note="cancelled after it left: nothing to cancel")
            cancelled = dict(r.cancelled)
            for line in command.lines:
                cancelled[line.sku] = cancelled.get(line.sku, 0) + line.quantity
            return PurchaseStep(r.model_copy(update={"cancelled": cancelled,
                                                     "cancellations": [*r.cancellations, command.event_id]}))
        case ReturnPurchase():
            if command.return_event_id in r.returns:  # a redelivery: what it clawed back, again
                return PurchaseStep(r, _clawbacks(r, *r.returns[command.return_event_id], key))
            if any(w.return_event_id == command.return_event_id for w in r.waiting):
                return PurchaseStep(r)
            if not r.earned:
                return PurchaseStep(r.model_copy(update={"waiting": [*r.waiting, command]}),
                                    note="returned before the purchase was attributed or complete: waits for it")
            return _returned(r, command, key)


def _complete(r: PurchaseRecord, window: timedelta, key: str, lifetime: timedelta | None) -> PurchaseStep:
    """Earn once the purchase has a customer and is complete; a repeat re-sends the same earns."""
    if r.customer_id is None or not r.fulfilled:
        return PurchaseStep(r)
    assert r.purchased_at is not None and r.purchase_event_id is not None
    lines = r.lines if r.earned else _net_of_cancellations(r)
    completed_at = r.fulfilled_at or r.purchased_at  # a till sale at once; an order when it left
    out: list[Event] = [
        EarnPoints(
            event_id=derived_id(key, f"earn:{line.line_no}"), occurred_at=completed_at, source_node=r.node,
            customer_id=r.customer_id, lot_id=f"{key}:{line.line_no}", sku=line.sku, quantity=line.quantity,
            net_cents=line.net_cents, bonus_points=line.bonus_points, return_window_s=int(window.total_seconds()),
            lifetime_s=int(lifetime.total_seconds()) if lifetime else None,
        )
        for line in lines
    ]
    if lines:
        out.append(PurchaseRecorded(
            event_id=derived_id(key, "purchase"), occurred_at=completed_at, source_node=r.node,
            customer_id=r.customer_id, kind="purchase", purchase_key=key, source_event_id=r.purchase_event_id,
            channel=r.channel, node=r.node, lines=lines,
        ))
    if r.earned:  # a repeat: the earns again, and the returns it settled (their sends may be lost)
        for returned, allocation in r.returns.values():
            out += _clawbacks(r, returned, allocation, key)
        return PurchaseStep(r, out)
    waiting = r.waiting
    r = r.model_copy(update={"earned": True, "lines": lines, "waiting": []})
    for command in waiting:
        step = _returned(r, command, key)
        r, out = step.record, out + step.out
    return PurchaseStep(r, out)


def _net_of_cancellations(r: PurchaseRecord) -> list[PurchaseLine]:
    left = dict(r.cancelled)
    out = []
    for line in sorted(r.lines, key=lambda x: -x.line_no):  # cancellations take the last lines first
        take = min(left.get(line.sku, 0), line.quantity)
        left[line.sku] = left.get(line.sku, 0) - take
        quantity = line.quantity - take
        if quantity:
            net = line.net_cents * quantity // line.quantity
            bonus = line.bonus_points * quantity // line.quantity
            out.append(line.model_copy(update={"quantity": quantity, "net_cents": net, "bonus_points": bonus}))
    return sorted(out, key=lambda x: x.line_no)


def _returned(r: PurchaseRecord, command: ReturnPurchase, key: str) -> PurchaseStep:
    """Match returned units to the purchase's lines by SKU, first lines first, never beyond what was bought."""
    taken: dict[int, int] = {}
    for _, returns in r.returns.values():
        for _, line_no, units in returns:
            taken[line_no] = taken.get(line_no, 0) + units
    allocation: list[tuple[int, int, int]] = []
    unmatched = 0
    for ret in command.lines:
        want = ret.quantity
        for line in r.lines:
            if line.sku != ret.sku or not want:
                continue
            units = min(want, line.quantity - taken.get(line.line_no, 0))
            if units > 0:
                allocation.append((ret.line_no, line.line_no, units))
                taken[line.line_no] = taken.get(line.line_no, 0) + units
                want -= units
        unmatched += want
    r2 = r.model_copy(update={"returns": {**r.returns, command.return_event_id: (command, allocation)}})
    note = f"{unmatched} returned units match no unreturned unit bought on {key}" if unmatched else None
    return PurchaseStep(r2, _clawbacks(r2, command, allocation, key), note)


def _clawbacks(
    r: PurchaseRecord, command: ReturnPurchase, allocation: list[tuple[int, int, int]], key: str
) -> list[Event]:
    if r.customer_id is None or r.purchased_at is None or not allocation:
        return []
    lines = {line.line_no: line for line in r.lines}
    out: list[Event] = [
        ClawbackPoints(
            event_id=derived_id(command.return_event_id, f"clawback:{ret_no}:{line_no}"),
            occurred_at=command.occurred_at, source_node=command.source_node, customer_id=r.customer_id,
            return_line_id=f"{command.return_event_id}:{ret_no}:{line_no}", lot_id=f"{key}:{line_no}",
            quantity=units, net_cents=lines[line_no].net_cents * units // lines[line_no].quantity,
            purchased_at=r.fulfilled_at or r.purchased_at,
        )
        for ret_no, line_no, units in allocation
    ]
    returned = [
        PurchaseLine(line_no=ret_no, sku=lines[line_no].sku, quantity=units,
                     net_cents=lines[line_no].net_cents * units // lines[line_no].quantity,
                     bonus_points=clawback_points(lines[line_no].bonus_points, lines[line_no].quantity, units))
        for ret_no, line_no, units in allocation
    ]
    out.append(PurchaseRecorded(
        event_id=derived_id(command.return_event_id, f"history:{key}"), occurred_at=command.occurred_at,
        source_node=command.source_node, customer_id=r.customer_id, kind="return", purchase_key=key,
        source_event_id=command.return_event_id, channel=r.channel, node=command.source_node, lines=returned,
    ))
    return out
