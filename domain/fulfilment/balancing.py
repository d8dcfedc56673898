"""Store balancing: transfers from nodes with too many days of cover to nodes that sell faster. Pure.

`propose(positions, sales, as_of, params)` looks at each SKU on its own. A node needs stock when
its cover (on hand and in transit over its daily sales) is under `target_cover_days`; it is
topped up to `fill_cover_days`. A node can give when its cover is over `excess_cover_days`, and
gives only what it has beyond `fill_cover_days` of its own sales (at least `min_display_units`),
out of units not held for orders. Donors must sell the SKU slower than the recipient; the nearest
donor goes first when coordinates are known. Same inputs, same suggestions, same ids.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.fulfilment.costs import haversine_km
from domain.fulfilment.network import Network
from domain.ids import derived_id
from streams.fulfilment import NodeKind, TransferSuggested

# JSON has no infinity: a node that sold nothing in the window has this many days of cover.
COVER_CAP_DAYS = 9_999.0
SOURCE_NODE = "hq"
BALANCED_KINDS: frozenset[NodeKind] = frozenset({"store", "dark_store"})  # warehouses replenish; they are not balanced
Coordinates = Mapping[str, tuple[float, float]]


@dataclass(frozen=True)
class Position:
    """One SKU at one node: on hand, units available to promise (None: as on hand), in transit to it."""

    sku: str
    node: str
    on_hand: int
    atp: int | None = None
    in_transit: int = 0


@dataclass(frozen=True)
class BalancingParams:
    """What makes a node short or long of a SKU, and how much a suggestion may move."""

    window_days: int = 14  # daily sales = units sold over this many days / window_days
    excess_cover_days: float = 28.0  # a node with more cover than this may give
    target_cover_days: float = 7.0  # a node with less cover than this needs stock
    fill_cover_days: float = 14.0  # a recipient is topped up to this; a donor keeps this much
    min_display_units: int = 2  # a donor never goes below this, however slowly it sells
    min_units: int = 2  # no suggestion moves fewer units
    max_per_sku: int = 3  # suggestions per SKU per run, the most urgent recipients first

    def __post_init__(self) -> None:
        if self.window_days < 1 or self.min_units < 1 or self.max_per_sku < 1 or self.min_display_units < 0:
            raise ValueError("window_days, min_units and max_per_sku must be 1 or more, min_display_units 0 or more")
        if not 0 < self.target_cover_days <= self.fill_cover_days <= self.excess_cover_days:
            raise ValueError("need 0 < target_cover_days <= fill_cover_days <= excess_cover_days")


@dataclass(frozen=True)
class Stand:
    """A position with its sales rate: what the decision reads about one node."""

    position: Position
    daily_sales: float

    @property
    def node(self) -> str:
        return self.position.node


def propose(
    positions: Iterable[Position],
    sales: Mapping[tuple[str, str], int],
    as_of: datetime,
    params: BalancingParams = BalancingParams(),
    coordinates: Coordinates | None = None,
) -> list[TransferSuggested]:
    """Transfer suggestions for every SKU, sorted by SKU and then by urgency."""
    by_sku: dict[str, dict[str, Position]] = {}
    for position in positions:
        nodes = by_sku.setdefault(position.sku, {})
        if position.node in nodes:
            raise ValueError(f"two positions for {position.sku}@{position.node}")
        nodes[position.node] = position
    for sku, node in sales:
        by_sku.setdefault(sku, {}).setdefault(node, Position(sku, node, 0))
    suggestions: list[TransferSuggested] = []
    for sku in sorted(by_sku):
        stands = [Stand(p, max(sales.get((sku, p.node), 0), 0) / params.window_days) for p in by_sku[sku].values()]
        suggestions += _for_sku(stands, as_of, params, coordinates or {})
    return suggestions


def nodes_to_balance(network: Network) -> dict[str, tuple[float, float]]:
    """The network's active stores and dark stores, with where they are (latitude, longitude)."""
    return {node: (n.lat, n.lon) for node, n in sorted(network.nodes.items()) if n.kind in BALANCED_KINDS}


def spare_units(stand: Stand, params: BalancingParams) -> int:
    """What a donor can give: free units beyond `fill_cover_days` of its own sales and the display."""
    if cover_days(stand.position.on_hand, stand.daily_sales) <= params.excess_cover_days:
        return 0
    free = stand.position.on_hand if stand.position.atp is None else min(stand.position.atp, stand.position.on_hand)
    return max(0, free - keep_units(stand, params))


def keep_units(stand: Stand, params: BalancingParams) -> int:
    return max(math.ceil(params.fill_cover_days * stand.daily_sales), params.min_display_units)


def needed_units(stand: Stand, params: BalancingParams) -> int:
    """What a recipient lacks to reach `fill_cover_days`, counting what is in transit to it; 0 if not short."""
    if stand.daily_sales <= 0:
        return 0
    coming = max(stand.position.on_hand, 0) + stand.position.in_transit
    if cover_days(coming, stand.daily_sales) >= params.target_cover_days:
        return 0
    return max(0, math.ceil(params.fill_cover_days * stand.daily_sales) - coming)


def cover_days(units: int, daily_sales: float) -> float:
    """Days `units` last at `daily_sales`; infinite when nothing sells (a negative on hand lasts 0 days)."""
    if daily_sales <= 0:
        return math.inf
    return max(units, 0) / daily_sales


def _for_sku(stands: list[Stand], as_of: datetime, params: BalancingParams,
             coordinates: Coordinates) -> list[TransferSuggested]:
    recipients = sorted(
        (s for s in stands if needed_units(s, params) >= params.min_units),
        key=lambda s: (cover_days(max(s.position.on_hand, 0) + s.position.in_transit, s.daily_sales),
                       -s.daily_sales, s.node),
    )
    spare = {s.node: spare_units(s, params) for s in stands}
    given: dict[str, int] = {}
    taken: dict[str, int] = {}
    suggestions: list[TransferSuggested] = []
    for recipient in recipients:
        need = needed_units(recipient, params)
        for donor in _donors_for(recipient, stands, spare, coordinates):
            quantity = min(need, spare[donor.node] - given.get(donor.node, 0))
            if len(suggestions) == params.max_per_sku or need < params.min_units:
                break
            if quantity < params.min_units:
                continue
            suggestions.append(_suggestion(donor, recipient, quantity, given.get(donor.node, 0),
                                           taken.get(recipient.node, 0), as_of, params))
            given[donor.node] = given.get(donor.node, 0) + quantity
            taken[recipient.node] = taken.get(recipient.node, 0) + quantity
            need -= quantity
    return suggestions


def _donors_for(recipient: Stand, stands: list[Stand], spare: dict[str, int],
                coordinates: Coordinates) -> list[Stand]:
    """Nodes that can give and sell slower than `recipient`: nearest first, then the longest cover."""
    donors = [s for s in stands if spare[s.node] > 0 and s.daily_sales < recipient.daily_sales]
    return sorted(donors, key=lambda d: (_km_between(d.node, recipient.node, coordinates),
                                         -cover_days(d.position.on_hand, d.daily_sales), d.node))


def _km_between(a: str, b: str, coordinates: Coordinates) -> float:
    if a not in coordinates or b not in coordinates:
        return math.inf
    return haversine_km(*coordinates[a], *coordinates[b])


def suggestion_id(sku: str, from_node: str, to_node: str, as_of: datetime) -> str:
    """The same SKU, nodes and day give the same id: re-running the job that day re-sends, never adds."""
    return f"balance/{as_of.astimezone(UTC).date().isoformat()}/{sku}/{from_node}/{to_node}"


def _suggestion(donor: Stand, recipient: Stand, quantity: int, given: int, taken: int, as_of: datetime,
                params: BalancingParams) -> TransferSuggested:
    """Figures before include this run's earlier suggestions for the SKU, in order."""
    from_on_hand, to_on_hand = donor.position.on_hand - given, recipient.position.on_hand + taken
    ident = suggestion_id(donor.position.sku, donor.node, recipient.node, as_of)
    numbers = {
        "from_cover_days_before": _shown(cover_days(from_on_hand, donor.daily_sales)),
        "from_cover_days_after": _shown(cover_days(from_on_hand - quantity, donor.daily_sales)),
        "to_cover_days_before": _shown(cover_days(to_on_hand, recipient.daily_sales)),
        "to_cover_days_after": _shown(cover_days(to_on_hand + quantity, recipient.daily_sales)),
    }
    return TransferSuggested(
        event_id=derived_id(ident, "suggested"), occurred_at=as_of, source_node=SOURCE_NODE, suggestion_id=ident,
        sku=donor.position.sku, from_node=donor.node, to_node=recipient.node, quantity=quantity,
        from_on_hand=from_on_hand, to_on_hand=to_on_hand, from_daily_sales=round(donor.daily_sales, 3),
        to_daily_sales=round(recipient.daily_sales, 3), as_of=as_of,
        reason=_reason(donor, recipient, quantity, numbers, params), **numbers,
    )


def _shown(days: float) -> float:
    return COVER_CAP_DAYS if math.isinf(days) else min(round(days, 1), COVER_CAP_DAYS)


def _reason(donor: Stand, recipient: Stand, quantity: int, numbers: dict[str, float],
            params: BalancingParams) -> str:
    coming = f" (+{recipient.position.in_transit} in transit)" if recipient.position.in_transit else ""
    text = (
        f"{quantity} units: {donor.node} {_rate(donor, params)}, cover {_days(numbers['from_cover_days_before'])} "
        f"-> {_days(numbers['from_cover_days_after'])}; {recipient.node} {_rate(recipient, params)}, cover "
        f"{_days(numbers['to_cover_days_before'])}{coming} -> {_days(numbers['to_cover_days_after'])}"
    )
    return text[:300]


def _rate(stand: Stand, params: BalancingParams) -> str:
    if stand.daily_sales <= 0:
        return f"sold none in {params.window_days} days"
    return f"sells {stand.daily_sales:.2f}/day"


def _days(days: float) -> str:
    return "unlimited" if days >= COVER_CAP_DAYS else f"{days:g} days"
