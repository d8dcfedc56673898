"""The simulated retail network: stores, warehouses, a catalogue and customers, all from one seed."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal

from sim.config import SimConfig
from streams.pos import CustomerRef, IdentifierKind

NodeKind = Literal["store", "warehouse"]
# A bounding box over the Netherlands: every node and customer home lies inside it.
LAT_RANGE = (51.3, 53.4)
LON_RANGE = (4.0, 6.9)
# Zipf exponent of SKU popularity: a few SKUs sell most of the units.
ZIPF_EXPONENT = 1.1
# How likely a customer is to be known by each identifier kind.
IDENTIFIER_ODDS: dict[IdentifierKind, float] = {
    "loyalty_card": 0.7,
    "email": 0.85,
    "phone": 0.5,
    "app_account": 0.4,
}


@dataclass(frozen=True)
class Node:
    """A store or a warehouse that holds stock."""

    node_id: str
    kind: NodeKind
    lat: float
    lon: float


@dataclass(frozen=True)
class Item:
    """A catalogue entry: the SKU, its opening price and its share of demand."""

    sku: str
    price_cents: int
    popularity: float


@dataclass(frozen=True)
class Customer:
    """A shopper, the identifiers each channel knows them by, and the store nearest home."""

    number: int
    identifiers: tuple[CustomerRef, ...]
    home_store: str
    postcode: str
    lat: float
    lon: float

    def ref(self, *preferred: IdentifierKind) -> CustomerRef:
        """The first identifier of a preferred kind, else the first one known."""
        for kind in preferred:
            for ref in self.identifiers:
                if ref.kind == kind:
                    return ref
        return self.identifiers[0]

    def knows(self, kind: IdentifierKind) -> bool:
        return any(ref.kind == kind for ref in self.identifiers)


@dataclass(frozen=True)
class Network:
    """Everything that exists before the day starts."""

    stores: tuple[Node, ...]
    warehouses: tuple[Node, ...]
    catalogue: tuple[Item, ...]
    customers: tuple[Customer, ...]
    cumulative_popularity: tuple[float, ...]

    @property
    def nodes(self) -> tuple[Node, ...]:
        return self.warehouses + self.stores

    def pick_item(self, rng: random.Random) -> Item:
        """A SKU drawn by popularity, as a shopper would reach for it."""
        return rng.choices(self.catalogue, cum_weights=self.cumulative_popularity)[0]

    def nearest_warehouses(self, lat: float, lon: float) -> list[Node]:
        return sorted(self.warehouses, key=lambda node: distance_km(lat, lon, node.lat, node.lon))


def build_network(config: SimConfig, rng: random.Random) -> Network:
    stores = tuple(_node(f"st-{i:03d}", "store", rng) for i in range(1, config.stores + 1))
    warehouses = tuple(_node(f"wh-{i:02d}", "warehouse", rng) for i in range(1, config.warehouses + 1))
    catalogue = _catalogue(config.skus, rng)
    customers = tuple(_customer(n, rng, stores) for n in range(1, config.customers + 1))
    cumulative = tuple(accumulate(item.popularity for item in catalogue))
    return Network(stores, warehouses, catalogue, customers, cumulative)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance: plenty for choosing the nearer of two warehouses."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6371.0 * math.hypot(x, y)


def _node(node_id: str, kind: NodeKind, rng: random.Random) -> Node:
    return Node(node_id, kind, round(rng.uniform(*LAT_RANGE), 5), round(rng.uniform(*LON_RANGE), 5))


def _catalogue(size: int, rng: random.Random) -> tuple[Item, ...]:
    """SKUs with shelf prices ending in 9 and Zipf popularity over a shuffled rank."""
    ranks = list(range(1, size + 1))
    rng.shuffle(ranks)
    weights = [1.0 / rank**ZIPF_EXPONENT for rank in ranks]
    total = sum(weights)
    return tuple(Item(f"SKU-{i:05d}", _shelf_price(rng), weight / total) for i, weight in enumerate(weights, start=1))


def _shelf_price(rng: random.Random) -> int:
    euros = int(math.exp(rng.uniform(math.log(1), math.log(300))))
    return euros * 100 + rng.choice((49, 95, 99))


def _customer(number: int, rng: random.Random, stores: tuple[Node, ...]) -> Customer:
    home = rng.choice(stores)
    kinds = [kind for kind, odds in IDENTIFIER_ODDS.items() if rng.random() < odds] or ["email"]
    refs = tuple(CustomerRef(kind=kind, value=_identifier(kind, number, rng)) for kind in kinds)
    postcode = f"{rng.randint(1000, 9999)} {rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}{rng.choice('ABEHKLMNPRSTVXZ')}"
    lat = round(home.lat + rng.uniform(-0.05, 0.05), 5)
    lon = round(home.lon + rng.uniform(-0.05, 0.05), 5)
    return Customer(number, refs, home.node_id, postcode, lat, lon)


def _identifier(kind: IdentifierKind, number: int, rng: random.Random) -> str:
    match kind:
        case "loyalty_card":
            return f"LC{number:08d}{rng.randint(0, 99):02d}"
        case "email":
            return f"shopper{number}@example.com"
        case "phone":
            return f"+316{number:08d}"  # unique per customer: shared numbers would merge people
        case _:
            return f"app-{rng.getrandbits(32):08x}-{number}"
