"""What sourcing reads on this worker: ATP per SKU and node, free capacity per slot, the network.

Every worker keeps the whole of `inventory.availabilities` and `fulfilment.network-versions`
in memory (`agents/watch_network.py` reads them from the beginning), so an order is sourced on
the worker that owns it without asking another. It is eventually consistent: the authority
may still refuse a hold, and the saga decides again. Holds this worker placed are
subtracted until the authority answers them (`reserve`, `settle`: a granted answer carries the
ATP after it), at most a few seconds, so a burst of orders does not all pick the same last units.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from domain.fulfilment import capacity
from domain.fulfilment.network import NetworkLog
from domain.fulfilment.sourcing import Decision, Request, decide
from domain.orders.sourcing import Sourced
from streams.fulfilment import Method, NetworkEvent
from streams.holds import HoldAnswered
from streams.inventory import AvailabilityChanged

OVERLAY_S = 5.0  # long enough for the authority's availability to come back round


@dataclass
class _Reserved:
    until: float
    sku: str
    node: str
    quantity: int
    order_id: str = ""


class LiveSnapshot:
    """Availability and capacity as last read, minus this worker's unconfirmed holds."""

    def __init__(self) -> None:
        self.network = NetworkLog()
        self._atp: dict[str, dict[str, int]] = {}
        self._capacity: dict[tuple[str, str, datetime], int] = {}
        self._reserved: dict[str, _Reserved] = {}
        self._minus: dict[str, dict[str, int]] = {}  # sku -> node -> units reserved
        self._by_order: dict[str, set[str]] = {}  # order id -> its reserved hold ids
        self.offsets: dict[str, int] = {}  # `<topic>:<partition>` -> last offset read
        self.caught_up = False
        self.capacity_positions = 0

    # --- fed by agents/watch_network.py ---------------------------------------------------

    def availability(self, event: AvailabilityChanged) -> None:
        if capacity.is_capacity(event.sku):
            method, slot = capacity.parse(event.sku)
            key = (event.node, method, slot)
            if key not in self._capacity:
                self.capacity_positions += 1
            self._capacity[key] = event.atp
        else:
            self._atp.setdefault(event.sku, {})[event.node] = event.atp

    def network_version(self, event: NetworkEvent) -> None:
        self.network.add(event)

    def read(self, topic: str, partition: int, offset: int) -> None:
        self.offsets[f"{topic}:{partition}"] = offset

    # --- read by sourcing -------------------------------------------------------------------

    def atp(self, sku: str) -> Mapping[str, int]:
        known = self._atp.get(sku, {})
        minus = self._minus.get(sku)
        if not minus:
            return known
        return {node: units - minus.get(node, 0) for node, units in known.items()}

    def free_capacity(self, node: str, method: Method, slot_start: datetime) -> int:
        free = self._capacity.get((node, method, slot_start), 0)
        minus = self._minus.get(capacity.capacity_sku(node, method, slot_start)) if self._minus else None
        return free - (minus or {}).get(node, 0)

    def has_capacity_slot(self, node: str, method: Method, slot_start: datetime) -> bool:
        return (node, method, slot_start) in self._capacity

    # --- this worker's holds in flight ---------------------------------------------------------

    def reserve(self, hold_id: str, sku: str, node: str, quantity: int, order_id: str = "") -> None:
        if hold_id in self._reserved:
            return
        self._reserved[hold_id] = _Reserved(time.monotonic() + OVERLAY_S, sku, node, quantity, order_id)
        if order_id:
            self._by_order.setdefault(order_id, set()).add(hold_id)
        by_node = self._minus.setdefault(sku, {})
        by_node[node] = by_node.get(node, 0) + quantity

    def settle(self, answer: HoldAnswered) -> None:
        """The authority answered a hold this worker placed: forget the reservation, and take the
        ATP the answer reports (newer than any availability read so far for a granted hold)."""
        if answer.hold_id not in self._reserved:
            return
        self._drop(answer.hold_id)
        if answer.answer == "granted":
            if capacity.is_capacity(answer.sku):
                method, slot = capacity.parse(answer.sku)
                self._capacity[(answer.node, method, slot)] = answer.atp_after
            else:
                self._atp.setdefault(answer.sku, {})[answer.node] = answer.atp_after

    def expire_reservations(self) -> None:
        """Forget the reservations whose time is up: the oldest first (all last as long), so this
        stops at the first one still running."""
        now = time.monotonic()
        while self._reserved:
            hold_id, reserved = next(iter(self._reserved.items()))
            if reserved.until > now:
                return
            self._drop(hold_id)

    def forget_order(self, order_id: str) -> None:
        """An order about to be decided again: its own reservations are released with its holds."""
        for hold_id in sorted(self._by_order.get(order_id, ())):
            self._drop(hold_id)

    def _drop(self, hold_id: str) -> None:
        reserved = self._reserved.pop(hold_id, None)
        if reserved is None:
            return
        held = self._by_order.get(reserved.order_id)
        if held is not None:
            held.discard(hold_id)
            if not held:
                del self._by_order[reserved.order_id]
        by_node = self._minus.get(reserved.sku, {})
        left = by_node.get(reserved.node, 0) - reserved.quantity
        if left > 0:
            by_node[reserved.node] = left
        else:
            by_node.pop(reserved.node, None)
            if not by_node:
                self._minus.pop(reserved.sku, None)


def sourcer(snapshot: LiveSnapshot, profile_id: str):  # type: ignore[no-untyped-def]
    """The saga's sourcing function: the active profile and the network as of the order's time."""

    def source(request: Request) -> Sourced:
        started = time.perf_counter()
        network = snapshot.network.as_of(request.at)
        profile = snapshot.network.profile(profile_id, request.at)
        if network.costs is None or profile is None or not network.nodes:
            missing = "cost tables" if network.costs is None else "nodes" if not network.nodes else \
                f"an active profile {profile_id!r}"
            decision = Decision("rejected", f"no {missing} published on fulfilment.network-versions: "
                                            "run `python -m ops.network publish`")
        else:
            decision = decide(request, snapshot, network, profile)
        return Sourced(
            decision=decision, profile_id=profile_id, profile_version=profile.version if profile else 0,
            costs_version=network.costs.version if network.costs else 0,
            max_attempts=profile.max_attempts if profile else 1,
            network_versions={node: defined.version for node, defined in network.nodes.items()},
            snapshot_offsets=dict(snapshot.offsets), decide_ms=(time.perf_counter() - started) * 1000,
        )

    return source


live_snapshot = LiveSnapshot()
