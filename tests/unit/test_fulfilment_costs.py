"""A shipment's arithmetic: distance, carrier bands, same-day price, handling by kind, and the default tables."""

from __future__ import annotations

import pytest

from domain.fulfilment.costs import SAME_DAY_TRANSIT_S, haversine_km, tariff_of
from domain.fulfilment.defaults import default_costs, network_profile, warehouse_first
from streams.fulfilment import DistanceBand, WeightBand
from tests.unit.fulfilment_builders import T0

DAY = 86_400


def test_the_great_circle_distance_from_amsterdam_to_rotterdam_is_57_km() -> None:
    assert haversine_km(52.3676, 4.9041, 51.9244, 4.4777) == pytest.approx(57.2, abs=0.1)
    assert haversine_km(52.0, 5.0, 52.0, 5.0) == 0.0


def test_a_parcel_is_priced_by_the_first_distance_band_then_the_first_weight_band_that_holds_it() -> None:
    tariff = tariff_of(default_costs(T0))  # 500 g a unit; bands <= 25, 100, 250, 1,500 km
    assert tariff.carrier("ship", 10.0, 2) == (350, DAY)  # 1 kg, nearest band
    assert tariff.carrier("ship", 25.0, 3) == (450, DAY)  # 1.5 kg: the 5 kg price
    assert tariff.carrier("ship", 120.0, 1) == (650, DAY)
    assert tariff.carrier("ship", 300.0, 41) == (1_495, 2 * DAY)  # 20.5 kg beyond the last weight: its price


def test_beyond_the_last_distance_band_its_prices_apply() -> None:
    costs = default_costs(T0).model_copy(update={"shipping": [
        DistanceBand(up_to_km=50, by_weight=[WeightBand(up_to_g=1_000, cents=400)], transit_days=0)]})
    assert tariff_of(costs).carrier("ship", 900.0, 1) == (400, SAME_DAY_TRANSIT_S)


def test_same_day_costs_a_base_plus_a_rate_per_km_and_travels_at_courier_speed() -> None:
    tariff = tariff_of(default_costs(T0))
    assert tariff.carrier("same_day", 10.0, 5) == (495 + 350, 20 * 60)
    assert tariff.carrier("pickup", 0.0, 5) == (0, 0)


def test_handling_is_per_order_and_per_unit_by_kind_and_free_for_a_kind_without_a_price() -> None:
    tariff = tariff_of(default_costs(T0))
    assert tariff.handling("store", 10) == 150 + 10 * 80
    assert tariff.handling("warehouse", 10) == 200 + 10 * 20
    assert tariff.handling("head_office", 10) == 0


def test_the_default_profiles_keep_online_orders_to_the_kinds_they_name() -> None:
    baseline, everywhere = warehouse_first(T0), network_profile(T0)
    assert baseline.nodes_for == {"ship": ["warehouse"], "same_day": ["warehouse"], "pickup": ["store"]}
    assert baseline.criteria == ["shipments", "distance", "cost"] and baseline.max_split == 3
    assert set(everywhere.nodes_for["ship"]) == {"store", "warehouse", "dark_store"}
    assert everywhere.criteria[0] == "promise" and everywhere.min_shipment_cents == 1_500
