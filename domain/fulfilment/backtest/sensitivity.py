"""The assumptions that drive the backtest, varied: store handling cost and the same-day radius. Pure.

Ship-from-store is reported both ~40 % cheaper and ~30 % dearer per parcel than shipping from
a warehouse. The store-handling variants scale a store's handling (per order and per unit,
together: per unit alone cannot reach the cheap end) so that a reference parcel from a store
costs 40 % and 20 % less, and 15 % and 30 % more, than the same parcel from a warehouse; the
reference is the month's own: a shipped order's median units, and the median distance from its
customer to the nearest store and to the nearest warehouse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from domain.fulfilment.backtest.figures import Comparison
from domain.fulfilment.costs import haversine_km, tariff_of
from domain.fulfilment.network import Network
from domain.fulfilment.sourcing import Request
from streams.fulfilment import CostsDefined, NodeDefined

STORE_VS_WAREHOUSE = (-0.40, -0.20, None, 0.15, 0.30)  # None: the cost tables as published
RADII_KM = (3.0, 10.0, 25.0)
SAMPLE_EVERY = 10  # of the shipped orders, for the reference parcel's distances


@dataclass(frozen=True)
class Parcel:
    """The reference parcel the store-handling variants are set by."""

    units: int
    store_km: float
    warehouse_km: float


@dataclass(frozen=True)
class Variant:
    label: str
    store_handling: float  # multiplier of a store's handling per order and per unit
    radius_km: float


@dataclass(frozen=True)
class Sensitivity:
    """One variant's backtest, with what the reference parcel costs under it."""

    variant: Variant
    store_parcel_eur: float
    warehouse_parcel_eur: float
    store_vs_warehouse_pct: float
    comparison: Comparison


def sensitivity(costs: CostsDefined, parcel: Parcel, variant: Variant, comparison: Comparison) -> Sensitivity:
    store, warehouse, dearer = store_vs_warehouse(costs_with(costs, variant), parcel)
    return Sensitivity(variant, store / 100, warehouse / 100, dearer, comparison)


def reference_parcel(orders: Sequence[Request], nodes: Sequence[NodeDefined]) -> Parcel:
    shipped = [o for o in orders if o.method == "ship"]
    homes = [(o.lat, o.lon) for o in shipped[::SAMPLE_EVERY] if o.lat is not None and o.lon is not None]
    if not homes:
        return Parcel(units=1, store_km=10.0, warehouse_km=100.0)
    units = median(sum(line.quantity for line in o.lines) for o in shipped)
    return Parcel(units=max(1, round(units)), store_km=_nearest(homes, nodes, "store"),
                  warehouse_km=_nearest(homes, nodes, "warehouse"))


def _nearest(homes: Sequence[tuple[float, float]], nodes: Sequence[NodeDefined], kind: str) -> float:
    """The median distance from a customer's home to the nearest node of `kind`."""
    sites = [(n.lat, n.lon) for n in nodes if n.kind == kind]
    if not sites:
        return 0.0
    return round(median(min(haversine_km(lat, lon, s_lat, s_lon) for s_lat, s_lon in sites) for lat, lon in homes), 1)


def variants(costs: CostsDefined, parcel: Parcel) -> tuple[Variant, ...]:
    """The store-handling variants at the published radius, then the radius variants at published costs."""
    radius = costs.same_day_radius_km
    out = []
    for target in STORE_VS_WAREHOUSE:
        if target is None:
            out.append(Variant("as published", 1.0, radius))
        else:
            scale = multiplier_for(costs, 1 + target, parcel)
            out.append(Variant(f"store parcel {target:+.0%} vs warehouse", scale, radius))
    out += [Variant(f"same-day radius {km:g} km", 1.0, km) for km in RADII_KM if km != radius]
    return tuple(out)


def costs_with(costs: CostsDefined, variant: Variant) -> CostsDefined:
    """The cost tables with a store's handling scaled and the same-day radius set."""
    scale = variant.store_handling
    per_order = {**costs.handling_order_cents, "store": round(costs.handling_order_cents.get("store", 0) * scale)}
    per_unit = {**costs.handling_unit_cents, "store": round(costs.handling_unit_cents.get("store", 0) * scale)}
    return costs.model_copy(update={"handling_order_cents": per_order, "handling_unit_cents": per_unit,
                                    "same_day_radius_km": variant.radius_km})


def network_with(network: Network, variant: Variant) -> Network:
    if network.costs is None:
        return network
    return Network(nodes=network.nodes, costs=costs_with(network.costs, variant))


def parcel_cents(costs: CostsDefined, kind: str, km: float, units: int) -> int:
    """What one shipped parcel costs from a node of `kind`: the carrier and the node's handling."""
    tariff = tariff_of(costs)
    return tariff.carrier("ship", km, units)[0] + tariff.handling(kind, units)


def multiplier_for(costs: CostsDefined, ratio: float, parcel: Parcel) -> float:
    """The store-handling multiplier at which the store parcel costs `ratio` times the warehouse parcel."""
    warehouse = parcel_cents(costs, "warehouse", parcel.warehouse_km, parcel.units)
    tariff = tariff_of(costs)
    carrier = tariff.carrier("ship", parcel.store_km, parcel.units)[0]
    handling = tariff.handling("store", parcel.units)
    return round(max(0.0, (ratio * warehouse - carrier) / handling), 2) if handling else 1.0


def store_vs_warehouse(costs: CostsDefined, parcel: Parcel) -> tuple[int, int, float]:
    """The reference parcel's cost from a store and from a warehouse, and how much dearer the store's is."""
    store = parcel_cents(costs, "store", parcel.store_km, parcel.units)
    warehouse = parcel_cents(costs, "warehouse", parcel.warehouse_km, parcel.units)
    return store, warehouse, round((store - warehouse) / warehouse * 100, 1)
