"""The cost tables and sourcing profiles a new network starts with, and why each value is what it is. Pure.

Money is in euro cents. The figures are public ranges for a Dutch omnichannel retailer, not
one carrier's contract: replace them with the chain's own once it has them (a new version).
"""

from __future__ import annotations

from datetime import datetime

from streams.fulfilment import CostsDefined, DistanceBand, ProfileDefined, WeightBand

PUBLISHER = "hq"


def _band(up_to_km: float, transit_days: int, one_kg: int, five_kg: int, twenty_kg: int) -> DistanceBand:
    weights = [WeightBand(up_to_g=1_000, cents=one_kg), WeightBand(up_to_g=5_000, cents=five_kg),
               WeightBand(up_to_g=20_000, cents=twenty_kg)]
    return DistanceBand(up_to_km=up_to_km, by_weight=weights, transit_days=transit_days)


def default_costs(effective_from: datetime) -> CostsDefined:
    return CostsDefined(
        event_id="fulfilment-costs-default-v1", occurred_at=effective_from, source_node=PUBLISHER, version=1,
        effective_from=effective_from,
        # Dutch parcel carriers charge a business sender about 4-7 EUR for a small parcel. Inside the
        # Netherlands most price by weight only; the distance bands stand for what a far node adds (the
        # line haul to a farther sorting hub, a second sort), so a nearby node saves 1-3 EUR a parcel.
        # Next day everywhere in the country; beyond 250 km (Belgium, Germany) two days.
        shipping=[
            _band(25, 1, 350, 450, 695),
            _band(100, 1, 495, 595, 845),
            _band(250, 1, 650, 750, 995),
            _band(1_500, 2, 895, 1_095, 1_495),
        ],
        # Picking: by hand in a store's aisles ~25 units an hour, in a warehouse ~100 (pick lists,
        # short walks), a dark store in between (~60: shelves laid out for pickers). At a loaded wage
        # of ~20 EUR/h that is ~80, ~20 and ~35 cents a unit. Per order a store packs at a counter
        # without sorters (1.50 EUR); a warehouse's order cost includes its share of the trunk to the
        # carrier's hub (2.00 EUR). Ship-from-store is reported both ~40 % cheaper and ~30 % dearer
        # per parcel than a warehouse; these values give both, by basket size and distance: one unit
        # from a store 10 km away costs 5.80 EUR against 8.70 from a warehouse 120 km away (a third
        # cheaper), ten units cost 14.00 from the store against 11.50 (20 % dearer; 40 % against a
        # warehouse 60 km away).
        handling_order_cents={"store": 150, "warehouse": 200, "dark_store": 150},
        handling_unit_cents={"store": 80, "warehouse": 20, "dark_store": 35},
        pick_units_per_hour={"store": 25, "warehouse": 100, "dark_store": 60},
        # Same day by courier: a base fee near a next-day parcel plus ~0.35 EUR a km (bike and van
        # couriers in Dutch cities). Radius: hyperlocal quick commerce in Indian metros keeps 2-3 km,
        # carriers' same-day from a depot reaches ~80 km; a chain of ~80 stores in the Randstad has a
        # store within 25 km of nearly every address, and 25 km at courier speed is under an hour,
        # so an order at 18:00 still arrives before a 21:00 closing.
        same_day_base_cents=495,
        same_day_cents_per_km=35,
        same_day_radius_km=25.0,
        # A second parcel costs the customer a second doorstep wait and the chain a box, a label and
        # more returns handling: about the per-parcel handling of a store, 3 EUR.
        split_penalty_cents=300,
        unit_weight_g=500,  # a typical apparel or home item with its packaging
        express_within_days=1,
        standard_within_days=3,
    )


def warehouse_first(at: datetime) -> ProfileDefined:
    """The baseline: online orders ship from warehouses only; stores serve their own pick-ups."""
    return ProfileDefined(
        event_id="fulfilment-profile-warehouse-first-v1", occurred_at=at, source_node=PUBLISHER,
        profile_id="warehouse-first", version=1, status="active",
        description="Ship and same-day from warehouses; pick-up at the chosen store. Fewest parcels, then nearest.",
        criteria=["shipments", "distance", "cost"],
        nodes_for={"ship": ["warehouse"], "same_day": ["warehouse"], "pickup": ["store"]},
        max_split=3,
    )


def network_profile(at: datetime) -> ProfileDefined:
    """The whole network sells online: stores and dark stores ship too, and serve same-day orders."""
    return ProfileDefined(
        event_id="fulfilment-profile-network-v1", occurred_at=at, source_node=PUBLISHER,
        profile_id="network", version=1, status="active",
        description="Ship from any store, warehouse or dark store; same-day from stores and dark stores. "
                    "Keep the promise, then fewest parcels, then cheapest, then nearest.",
        criteria=["promise", "shipments", "cost", "distance"],
        nodes_for={"ship": ["store", "warehouse", "dark_store"], "same_day": ["store", "dark_store"],
                   "pickup": ["store"]},
        max_split=3,
        # a split parcel worth less than 15 EUR costs more to send than the sale earns on it
        min_shipment_cents=1_500,
    )
