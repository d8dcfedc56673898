"""A shipment's arithmetic on plain numbers: distance, carrier price, handling, promise times. Pure.

The cost tables arrive as a `CostsDefined` event; `tariff_of` compiles one into tuples once
per event object, so a decision's hot loop reads plain numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from domain.fulfilment.memo import ByIdentity
from streams.fulfilment import CostsDefined, Method

EARTH_RADIUS_KM = 6371.0088  # mean radius: the error against the ellipsoid is < 0.5 %, far below a band's width
COURIER_KMH = 30.0  # a same-day courier's door-to-door speed in town, stops included
SAME_DAY_TRANSIT_S = 4 * 3600  # a carrier band with transit_days 0 delivers this long after pick-up
DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class Band:
    """One distance band: parcels up to `up_to_km`, priced by weight (grams, cents) ascending."""

    up_to_km: float
    transit_s: int
    weights: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Tariff:
    """`CostsDefined` compiled for the hot loop; missing kinds cost nothing."""

    version: int
    bands: tuple[Band, ...]
    order_cents: dict[str, int]
    unit_cents: dict[str, int]
    same_day_base: int
    same_day_per_km: int
    radius_km: float
    split_penalty: int
    unit_weight_g: int
    standard_s: int
    express_s: int

    def carrier(self, method: Method, km: float, units: int) -> tuple[int, int]:
        """What moving a parcel costs and how long it takes after it is ready: (cents, seconds)."""
        if method == "pickup":
            return 0, 0
        if method == "same_day":
            return round(self.same_day_base + self.same_day_per_km * km), round(km / COURIER_KMH * 3600)
        band = self.bands[-1]  # beyond the last band's distance or weight, its last price
        for near in self.bands:
            if km <= near.up_to_km:
                band = near
                break
        grams = units * self.unit_weight_g
        for up_to_g, cents in band.weights:
            if grams <= up_to_g:
                return cents, band.transit_s
        return band.weights[-1][1], band.transit_s

    def handling(self, kind: str, units: int) -> int:
        return self.order_cents.get(kind, 0) + self.unit_cents.get(kind, 0) * units


def _compile(costs: CostsDefined) -> Tariff:
    bands = tuple(
        Band(up_to_km=b.up_to_km, transit_s=b.transit_days * DAY_S if b.transit_days else SAME_DAY_TRANSIT_S,
             weights=tuple((w.up_to_g, w.cents) for w in b.by_weight))
        for b in costs.shipping)
    order_cents = {str(kind): cents for kind, cents in costs.handling_order_cents.items()}
    unit_cents = {str(kind): cents for kind, cents in costs.handling_unit_cents.items()}
    return Tariff(version=costs.version, bands=bands, order_cents=order_cents, unit_cents=unit_cents,
                  same_day_base=costs.same_day_base_cents,
                  same_day_per_km=costs.same_day_cents_per_km, radius_km=costs.same_day_radius_km,
                  split_penalty=costs.split_penalty_cents, unit_weight_g=costs.unit_weight_g,
                  standard_s=costs.standard_within_days * DAY_S, express_s=costs.express_within_days * DAY_S)


tariff_of = ByIdentity(_compile, limit=256)  # the compiled tariff of a CostsDefined, built once per event


def radians(lat: float, lon: float) -> tuple[float, float, float]:
    """A point as haversine wants it: latitude and longitude in radians, and cos(latitude)."""
    phi = math.radians(lat)
    return phi, math.radians(lon), math.cos(phi)


def km_between(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """Great-circle distance of two points given by `radians`."""
    s_lat = math.sin((b[0] - a[0]) * 0.5)
    s_lon = math.sin((b[1] - a[1]) * 0.5)
    h = s_lat * s_lat + a[2] * b[2] * s_lon * s_lon
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return km_between(radians(lat1, lon1), radians(lat2, lon2))
