"""The simulated network: ids in the contract's alphabet, skewed popularity, reproducible from a seed."""

from __future__ import annotations

import random
import re

import pytest

from sim.config import SimConfig
from sim.network import Network, build_network

NODE_ID = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")


@pytest.fixture(scope="module")
def network() -> Network:
    return build_network(SimConfig(stores=100, warehouses=2, skus=500, customers=2_000), random.Random(5))


def test_stores_and_warehouses_have_contract_ids_and_coordinates(network: Network) -> None:
    assert [n.node_id for n in network.stores[:2]] == ["st-001", "st-002"]
    assert [n.node_id for n in network.warehouses] == ["wh-01", "wh-02"]
    for node in network.nodes:
        assert NODE_ID.match(node.node_id)
        assert 50 < node.lat < 54 and 3 < node.lon < 8


def test_skus_match_the_contract_pattern_and_have_positive_prices(network: Network) -> None:
    assert network.catalogue[41].sku == "SKU-00042"
    assert all(SKU.match(item.sku) and item.price_cents > 0 for item in network.catalogue)
    assert len({item.sku for item in network.catalogue}) == 500


def test_a_tenth_of_the_skus_carries_most_of_the_demand(network: Network) -> None:
    shares = sorted((item.popularity for item in network.catalogue), reverse=True)
    assert sum(shares) == pytest.approx(1.0)
    assert sum(shares[:50]) > 0.5


def test_popular_skus_are_drawn_more_often(network: Network) -> None:
    rng = random.Random(1)
    top = max(network.catalogue, key=lambda item: item.popularity)
    draws = [network.pick_item(rng).sku for _ in range(5_000)]
    assert draws.count(top.sku) / len(draws) == pytest.approx(top.popularity, abs=0.03)


def test_every_customer_has_at_least_one_identifier_and_identifiers_are_unique(network: Network) -> None:
    values = [ref.value for customer in network.customers for ref in customer.identifiers]
    assert all(customer.identifiers for customer in network.customers)
    assert len(values) == len(set(values))
    kinds = {ref.kind for customer in network.customers for ref in customer.identifiers}
    assert kinds == {"phone", "email", "loyalty_card", "app_account"}


def test_customers_live_near_their_home_store(network: Network) -> None:
    stores = {store.node_id: store for store in network.stores}
    for customer in network.customers:
        home = stores[customer.home_store]
        assert abs(customer.lat - home.lat) <= 0.05 + 1e-9 and abs(customer.lon - home.lon) <= 0.05 + 1e-9


def test_the_same_seed_builds_the_same_network() -> None:
    config = SimConfig(stores=5, skus=30, customers=50)
    assert build_network(config, random.Random(9)) == build_network(config, random.Random(9))
    assert build_network(config, random.Random(9)) != build_network(config, random.Random(10))


@pytest.mark.parametrize("field", ["stores", "warehouses", "skus", "customers"])
def test_a_config_without_nodes_skus_or_customers_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SimConfig(**{field: 0})  # type: ignore[arg-type]


def test_a_run_label_outside_the_id_alphabet_is_refused() -> None:
    with pytest.raises(ValueError, match="run"):
        SimConfig(run="Has Spaces")
