"""Pick-up orders: planned at the customer's store or waiting there for transfers, never moved. Pure.

The customer chose the store, so it is the only candidate. When it lacks units, the order
waits and names, for each short SKU, the nearest other node (any kind) that could send them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from domain.fulfilment.costs import Tariff, km_between
from domain.fulfilment.eligibility import Atp, Eliminated, Line, Rules, Screened, short, static_reason
from domain.fulfilment.search import Plan, Search
from domain.fulfilment.slots import Site, Window, site_of
from streams.fulfilment import NodeDefined, ProfileDefined

Transfer = tuple[str, int, str, float]  # sku, units, from node, km


@dataclass(slots=True)
class Pickup:
    outcome: Literal["planned", "waiting", "rejected"]
    reason: str
    plan: Plan | None = None
    scored: int = 0
    eliminated: list[Eliminated] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)


def pickup(store: str | None, nodes: Mapping[str, NodeDefined], lines: tuple[Line, ...], rules: Rules, w: Window,
           tariff: Tariff, profile: ProfileDefined, atp: Atp) -> Pickup:
    node = nodes.get(store) if store else None
    if node is None:
        return Pickup("rejected", f"the pick-up store {store} is not in the network")
    site = site_of(node)
    reason = static_reason(site, rules)
    if reason is not None:
        return Pickup("rejected", f"the pick-up store {site.id} is out ({reason}); a pick-up order is not moved",
                      eliminated=[(site.id, reason, (), "")])
    stocks = [atp(sku) for sku, _, _ in lines]
    missing = [(line, stock, line[1] - _available(site, line[0], stock, rules))
               for line, stock in zip(lines, stocks, strict=True)]
    missing = [m for m in missing if m[2] > 0]
    if missing:
        return _waiting_for_stock(site, missing, nodes, rules)
    screened = Screened(sites={site.id: site}, km={site.id: 0.0}, serves=[{site.id} for _ in lines])
    found = Search(screened, lines, w, tariff, profile, None).run()
    if not found.plans:
        why = found.eliminated[0][3] if found.eliminated else "no slot with capacity for the order's units"
        return Pickup("waiting", f"waiting at {site.id}: {why}", scored=found.scored, eliminated=found.eliminated)
    return Pickup("planned", f"ready at {site.id}", plan=found.plans[0], scored=found.scored)


def _available(site: Site, sku: str, stock: Mapping[str, int], rules: Rules) -> int:
    if site.id in rules.blocked.get(sku, ()):
        return 0
    return max(0, stock.get(site.id, 0) - site.protected)


def _waiting_for_stock(site: Site, missing: list[tuple[Line, Mapping[str, int], int]],
                       nodes: Mapping[str, NodeDefined], rules: Rules) -> Pickup:
    eliminated = short(site, [m[0] for m in missing], [m[1] for m in missing], rules)
    transfers, notes = [], []
    for (sku, _, _), stock, units in missing:
        source = _nearest(site, sku, units, stock, nodes, rules)
        if source is None:
            notes.append(f"{sku} x{units}: no node has them")
        else:
            transfers.append((sku, units, source[1], round(source[0], 3)))
            notes.append(f"{sku} x{units} from {source[1]} ({source[0]:.1f} km)")
    return Pickup("waiting", f"waiting at {site.id} for " + "; ".join(notes), eliminated=[eliminated],
                  transfers=transfers)


def _nearest(store: Site, sku: str, units: int, stock: Mapping[str, int], nodes: Mapping[str, NodeDefined],
             rules: Rules) -> tuple[float, str] | None:
    """The nearest other active node, not excluded, whose ATP after its protection covers `units`."""
    best: tuple[float, str] | None = None
    for node_id, available in stock.items():
        node = nodes.get(node_id)
        if node is None or node_id == store.id or node_id in rules.excluded:
            continue
        site = site_of(node)
        if site.active and available - site.protected >= units and node_id not in rules.blocked.get(sku, ()):
            here = (km_between(store.point, site.point), node_id)
            best = here if best is None or here < best else best
    return best
