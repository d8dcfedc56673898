"""Which nodes may serve an order at all, and which of its lines each can serve. Pure.

Checks run cheapest first and a node is eliminated by the first that fails: active, kind
allowed by the profile, method served, not excluded, within the same-day radius, then stock
(a node that can serve none of the lines). Capacity is checked later, only for the nodes the
search reaches, because it is the one check that asks the snapshot per node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from domain.fulfilment.costs import EARTH_RADIUS_KM, km_between
from domain.fulfilment.slots import Site, site_of
from streams.fulfilment import Method, NodeDefined

Line = tuple[str, int, int]  # sku, quantity, value in cents
Eliminated = tuple[str, str, tuple[str, ...], str]  # node, reason, skus, detail
Atp = Callable[[str], Mapping[str, int]]
_NEVER = 1 << 62  # the protection of a node that is not eligible: no quantity clears it


@dataclass(slots=True)
class Screened:
    """The nodes left for the search, the node ids that can serve each line, and the eliminated."""

    sites: dict[str, Site] = field(default_factory=dict)
    km: dict[str, float] = field(default_factory=dict)  # filled by whoever needs a distance first
    serves: list[set[str]] = field(default_factory=list)
    eliminated: list[Eliminated] = field(default_factory=list)

    def uncovered(self, lines: tuple[Line, ...]) -> list[str]:
        return [line[0] for line, nodes in zip(lines, self.serves, strict=True) if not nodes]


@dataclass(frozen=True, slots=True)
class Rules:
    """What the request and profile allow, in the shape the checks read."""

    method: Method
    kinds: frozenset[str]
    excluded: frozenset[str]
    blocked: dict[str, frozenset[str]]  # sku -> nodes excluded for it (`sku@node`)
    point: tuple[float, float, float] | None  # destination, for the same-day radius
    radius_km: float


def blocked_pairs(excluded: Iterable[str]) -> dict[str, frozenset[str]]:
    pairs: dict[str, set[str]] = {}
    for entry in excluded:
        if "@" in entry:
            sku, node = entry.split("@", 1)
            pairs.setdefault(sku, set()).add(node)
    return {sku: frozenset(nodes) for sku, nodes in pairs.items()}


def static_reason(site: Site, rules: Rules) -> str | None:
    if not site.active:
        return "inactive"
    if site.kind not in rules.kinds:
        return "kind_not_allowed"
    if rules.method not in site.methods:
        return "method_not_served"
    if site.id in rules.excluded:
        return "excluded"
    return None


@dataclass(frozen=True, slots=True)
class Roster:
    """The nodes of a network a method may use under a profile's kinds, worked out once per network."""

    nodes: Mapping[str, NodeDefined]  # what it was built from
    values: tuple[NodeDefined, ...]
    sites: dict[str, Site]
    guard: dict[str, int]  # every node's walk-in protection; `_NEVER` for a node not in `sites`
    eliminated: tuple[Eliminated, ...]


_rosters: dict[tuple[int, str, frozenset[str]], Roster] = {}
_MEMO_LIMIT = 64


def roster(nodes: Mapping[str, NodeDefined], rules: Rules) -> Roster:
    """The roster of `nodes`, memoised while the same nodes (the same objects, or equal ones) are passed."""
    key = (id(nodes), rules.method, rules.kinds)
    values = tuple(nodes.values())
    known = _rosters.get(key)
    if known is not None and known.nodes is nodes and known.values == values:
        return known
    if len(_rosters) >= _MEMO_LIMIT:
        _rosters.clear()
    sites, guard, eliminated = {}, {}, []
    common = Rules(method=rules.method, kinds=rules.kinds, excluded=frozenset(), blocked={}, point=None, radius_km=0)
    for site in map(site_of, values):
        reason = static_reason(site, common)
        guard[site.id] = _NEVER if reason else site.protected
        if reason:
            eliminated.append((site.id, reason, (), ""))
        else:
            sites[site.id] = site
    known = _rosters[key] = Roster(nodes=nodes, values=values, sites=sites, guard=guard, eliminated=tuple(eliminated))
    return known


def screen(nodes: Mapping[str, NodeDefined], lines: tuple[Line, ...], rules: Rules, atp: Atp) -> Screened:
    listed = roster(nodes, rules)
    out = Screened(sites=dict(listed.sites), eliminated=list(listed.eliminated))
    guard = listed.guard
    if rules.excluded or rules.point is not None:
        guard = dict(guard)
        for site in listed.sites.values():
            reason = _here(site, rules, out)
            if reason is not None:
                guard[site.id] = _NEVER
                del out.sites[site.id]
                out.eliminated.append((site.id, *reason))
    _stock(out, guard, lines, rules, atp)
    return out


def _here(site: Site, rules: Rules, out: Screened) -> tuple[str, tuple[str, ...], str] | None:
    """What rules a listed node out for this request: an earlier exclusion, or the same-day radius."""
    if site.id in rules.excluded:
        return "excluded", (), ""
    if rules.point is not None:
        far = ("out_of_radius", (), f"further than {rules.radius_km:g} km")
        # the north-south gap alone is a lower bound of the distance: it rules out most nodes cheaply
        if abs(site.point[0] - rules.point[0]) * EARTH_RADIUS_KM > rules.radius_km:
            return far
        km = km_between(site.point, rules.point)
        if km > rules.radius_km:
            return far
        out.km[site.id] = km
    return None


def _stock(out: Screened, guard: dict[str, int], lines: tuple[Line, ...], rules: Rules, atp: Atp) -> None:
    """Which eligible nodes can serve each line; nodes that can serve none are eliminated here."""
    stocks = []
    for sku, quantity, _ in lines:
        stock = atp(sku)
        stocks.append(stock)
        try:
            serving = {node for node, units in stock.items() if units - guard[node] >= quantity}
        except KeyError:  # stock at a node the network does not list
            serving = {node for node, units in stock.items() if units - guard.get(node, _NEVER) >= quantity}
        out.serves.append(serving - rules.blocked[sku] if sku in rules.blocked else serving)
    idle = out.sites.keys() - set().union(*out.serves)
    for node in sorted(idle):
        site = out.sites.pop(node)
        out.eliminated.append(short(site, lines, stocks, rules))


def short(site: Site, lines: Iterable[Line], stocks: Iterable[Mapping[str, int]], rules: Rules) -> Eliminated:
    """Why a node cannot serve `lines` (each with its ATP map): its walk-in protection, earlier
    exclusions, or not enough stock."""
    skus, protected, blocked = [], [], 0
    for (sku, quantity, _), stock in zip(lines, stocks, strict=True):
        skus.append(sku)
        if site.id in rules.blocked.get(sku, ()):
            blocked += 1
        elif stock.get(site.id, 0) >= quantity:
            protected.append(sku)
    if protected:
        detail = f"keeps {site.protected} of each SKU for walk-in customers: {', '.join(protected)}"
        return site.id, "protected_stock", tuple(skus), detail[:200]
    if blocked == len(skus):
        return site.id, "excluded", tuple(skus), "excluded here by an earlier attempt"
    return site.id, "not_enough_atp", tuple(skus), ""
