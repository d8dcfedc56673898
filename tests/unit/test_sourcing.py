"""Sourcing decisions on small networks: who ships, who is eliminated and why, what a pick-up waits for."""

from __future__ import annotations

from datetime import timedelta

from domain.fulfilment.defaults import network_profile, warehouse_first
from domain.fulfilment.sourcing import Decision, TransferNeed, decide
from streams.fulfilment import OpeningHours
from tests.unit.fulfilment_builders import HOME, T0, Snapshot, km_east, network, node, profile, request

EVERYTHING = {"SKU-1": 5, "SKU-2": 5}


def stock(**nodes: dict[str, int]) -> Snapshot:
    """Snapshot from node -> {sku: units}."""
    by_sku: dict[str, dict[str, int]] = {}
    for node_id, skus in nodes.items():
        for sku, units in skus.items():
            by_sku.setdefault(sku, {})[node_id.replace("_", "-")] = units
    return Snapshot(stock=by_sku)


def reasons(decision: Decision) -> dict[str, str]:
    return {e.node: e.reason for e in decision.eliminated}


def shipped_from(decision: Decision) -> list[str]:
    return [s.node for s in decision.shipments]


def test_the_nearest_node_with_every_line_wins() -> None:
    net = network(node("st-far", at=km_east(20)), node("st-near", at=km_east(5)))
    decision = decide(request(("SKU-1", 1), ("SKU-2", 1)), stock(st_far=EVERYTHING, st_near=EVERYTHING), net, profile())
    assert decision.outcome == "planned" and shipped_from(decision) == ["st-near"]
    assert [c.nodes for c in decision.candidates] == [["st-near"], ["st-far"]]
    assert [c.rank for c in decision.candidates] == [1, 2] and decision.candidates_scored == 2
    assert set(decision.candidates[0].criteria) == {"promise", "shipments", "cost", "distance", "warehouse_share"}
    assert decision.cost_cents == decision.shipments[0].cost_cents and decision.km == decision.shipments[0].km


def test_an_order_is_split_only_when_no_node_has_every_line() -> None:
    net = network(node("st-a", at=km_east(2)), node("st-b", at=km_east(3)), node("wh-a", "warehouse", km_east(150)))
    far_has_all = stock(st_a={"SKU-1": 5}, st_b={"SKU-2": 5}, wh_a=EVERYTHING)
    assert shipped_from(decide(request(("SKU-1", 1), ("SKU-2", 1)), far_has_all, net, profile())) == ["wh-a"]

    nobody_has_all = stock(st_a={"SKU-1": 5}, st_b={"SKU-2": 5})
    split = decide(request(("SKU-1", 1), ("SKU-2", 1)), nobody_has_all, net, profile())
    assert split.outcome == "planned" and shipped_from(split) == ["st-a", "st-b"]
    assert [[line.sku for line in s.lines] for s in split.shipments] == [["SKU-1"], ["SKU-2"]]
    assert split.candidates[0].criteria["shipments"] == 2


def test_an_excluded_node_and_an_excluded_sku_at_a_node_are_not_used() -> None:
    net = network(node("st-near", at=km_east(2)), node("st-far", at=km_east(9)))
    snap = stock(st_near=EVERYTHING, st_far=EVERYTHING)
    whole = decide(request(("SKU-1", 1), ("SKU-2", 1), excluded=["st-near"]), snap, net, profile())
    assert shipped_from(whole) == ["st-far"] and reasons(whole) == {"st-near": "excluded"}

    one_sku = decide(request(("SKU-1", 1), ("SKU-2", 1), excluded=["SKU-1@st-near"]), snap, net, profile())
    assert shipped_from(one_sku) == ["st-far"]
    assert [c.nodes for c in one_sku.candidates] == [["st-far"]]  # st-near still has SKU-2, but not both


def test_protected_stock_eliminates_a_store_with_that_reason() -> None:
    net = network(node("st-near", at=km_east(2), protected=2), node("st-far", at=km_east(9)))
    decision = decide(request(("SKU-1", 1)), stock(st_near={"SKU-1": 2}, st_far={"SKU-1": 1}), net, profile())
    assert shipped_from(decision) == ["st-far"]
    [eliminated] = decision.eliminated
    assert (eliminated.node, eliminated.reason, eliminated.skus) == ("st-near", "protected_stock", ["SKU-1"])


def test_a_same_day_order_eliminates_nodes_outside_the_radius() -> None:
    north = (HOME[0] + 0.3, HOME[1])  # 33 km
    net = network(node("st-near", at=km_east(10)), node("st-far", at=km_east(40)), node("st-north", at=north))
    decision = decide(request(("SKU-1", 1), method="same_day", promise="same_day"),
                      stock(st_near={"SKU-1": 1}, st_far={"SKU-1": 9}, st_north={"SKU-1": 9}), net, profile())
    assert shipped_from(decision) == ["st-near"]
    assert reasons(decision) == {"st-far": "out_of_radius", "st-north": "out_of_radius"}
    [shipment] = decision.shipments
    assert shipment.promised_at - shipment.ready_at == timedelta(minutes=20)  # 10 km at 30 km/h


def test_a_closed_node_is_eliminated_and_so_is_one_that_cannot_be_ready_before_closing() -> None:
    shop = [OpeningHours(weekday=d, opens="09:00", closes="21:00") for d in range(7)]
    net = network(node("st-never", at=km_east(1), hours=[]), node("st-shop", at=km_east(2), hours=shop),
                  node("st-late", at=km_east(3)))
    snap = stock(st_never={"SKU-1": 1}, st_shop={"SKU-1": 1}, st_late={"SKU-1": 1})
    evening = T0 + timedelta(hours=10, minutes=30)  # 20:30 in Amsterdam: the shop needs an hour to prepare
    decision = decide(request(("SKU-1", 1), method="same_day", promise="same_day", at=evening), snap, net, profile())
    assert shipped_from(decision) == ["st-late"]
    assert reasons(decision) == {"st-never": "closed", "st-shop": "too_far_for_promise"}


def test_a_node_without_free_capacity_is_eliminated() -> None:
    net = network(node("st-near", at=km_east(2)), node("st-far", at=km_east(9)))
    snap = stock(st_near=EVERYTHING, st_far=EVERYTHING)
    snap.full_nodes = frozenset({"st-near"})
    decision = decide(request(("SKU-1", 1)), snap, net, profile())
    assert shipped_from(decision) == ["st-far"] and reasons(decision) == {"st-near": "no_capacity"}


def test_capacity_counted_in_units_needs_room_for_every_unit_of_the_shipment() -> None:
    net = network(node("st-near", at=km_east(2), unit="units"), node("st-far", at=km_east(9), unit="units"))
    snap = stock(st_near={"SKU-1": 9}, st_far={"SKU-1": 9})
    snap.free = {("st-near", "ship", T0 + timedelta(hours=h)): 2 for h in range(48)}
    decision = decide(request(("SKU-1", 3)), snap, net, profile())
    assert shipped_from(decision) == ["st-far"] and decision.shipments[0].capacity_units == 3
    assert decision.candidates_scored == 2  # st-near was tried and dropped, not eliminated: it has room for 2


def test_a_pickup_order_never_moves_to_another_store_and_waits_for_a_transfer() -> None:
    net = network(node("st-mine"), node("st-next", at=km_east(3)), node("wh-a", "warehouse", km_east(50)))
    snap = stock(st_mine={"SKU-1": 4}, st_next={"SKU-1": 9, "SKU-2": 5}, wh_a={"SKU-2": 100})
    decision = decide(request(("SKU-1", 1), ("SKU-2", 2), method="pickup", pickup_node="st-mine"), snap, net,
                      profile())
    assert decision.outcome == "waiting" and decision.shipments == ()
    [transfer] = decision.transfers
    assert (transfer.sku, transfer.quantity, transfer.from_node) == ("SKU-2", 2, "st-next")
    assert transfer == TransferNeed("SKU-2", 2, "st-next", transfer.km) and 2.9 < transfer.km < 3.1
    assert [(e.node, e.reason, e.skus) for e in decision.eliminated] == [("st-mine", "not_enough_atp", ["SKU-2"])]


def test_a_pickup_order_with_every_line_at_its_store_is_ready_after_the_preparation() -> None:
    net = network(node("st-mine", prep_minutes=30), node("st-next", at=km_east(1)))
    snap = stock(st_mine=EVERYTHING, st_next=EVERYTHING)
    decision = decide(request(("SKU-1", 1), method="pickup", pickup_node="st-mine"), snap, net, profile())
    [shipment] = decision.shipments
    assert decision.outcome == "planned" and shipment.node == "st-mine" and shipment.km == 0
    assert shipment.ready_at == shipment.promised_at == T0 + timedelta(minutes=30)


def test_a_split_with_a_shipment_below_the_minimum_value_is_dropped() -> None:
    net = network(node("st-a", at=km_east(2)), node("st-b", at=km_east(3)))
    snap = stock(st_a={"SKU-1": 5}, st_b={"SKU-2": 5})
    order = request(("SKU-1", 1), ("SKU-2", 1), unit_cents=1_000)
    assert decide(order, snap, net, profile(min_shipment_cents=1_000)).outcome == "planned"
    decision = decide(order, snap, net, profile(min_shipment_cents=1_500))
    assert decision.outcome == "rejected" and decision.candidates_scored == 1
    assert "below the minimum value" in decision.reason


def test_the_check_budget_bounds_the_plans_scored() -> None:
    stores = [node(f"st-{n:02d}", at=km_east(1 + n)) for n in range(30)]
    snap = stock(**{f"st_{n:02d}": EVERYTHING for n in range(30)})
    decision = decide(request(("SKU-1", 1)), snap, network(*stores), profile(check_budget=5))
    assert decision.candidates_scored == 5 and len(decision.candidates) == 5
    assert shipped_from(decision) == ["st-00"]

    split_only = stock(**{f"st_{n:02d}": {f"SKU-{n % 3}": 5} for n in range(30)})
    three = decide(request(("SKU-0", 1), ("SKU-1", 1), ("SKU-2", 1)), split_only, network(*stores),
                   profile(check_budget=40))
    assert three.outcome == "planned" and len(three.shipments) == 3 and three.candidates_scored <= 40


def test_warehouse_first_never_ships_from_a_store() -> None:
    net = network(node("st-near", at=km_east(1)), node("wh-far", "warehouse", km_east(120)))
    snap = stock(st_near=EVERYTHING, wh_far=EVERYTHING)
    decision = decide(request(("SKU-1", 1)), snap, net, warehouse_first(T0))
    assert shipped_from(decision) == ["wh-far"] and reasons(decision) == {"st-near": "kind_not_allowed"}
    assert decide(request(("SKU-1", 1)), stock(st_near=EVERYTHING), net, warehouse_first(T0)).outcome == "rejected"
    assert shipped_from(decide(request(("SKU-1", 1)), snap, net, network_profile(T0))) == ["st-near"]


def test_a_line_no_eligible_node_has_is_rejected_naming_the_sku() -> None:
    net = network(node("st-a"), node("st-b", at=km_east(4)))
    decision = decide(request(("SKU-1", 1), ("SKU-9", 2)), stock(st_a={"SKU-1": 1}, st_b={"SKU-1": 1}), net,
                      profile())
    assert decision.outcome == "rejected" and decision.candidates_scored == 0
    assert "SKU-9 x2" in decision.reason and "SKU-1" not in decision.reason


def test_weighted_mode_orders_plans_by_their_weighted_sum() -> None:
    net = network(node("st-near", at=km_east(2)), node("wh-far", "warehouse", km_east(60)))
    snap = stock(st_near=EVERYTHING, wh_far=EVERYTHING)
    by_distance = profile(mode="weighted", weights={"distance": 100.0, "cost": 1.0})
    by_warehouse = profile(mode="weighted", weights={"warehouse_share": 10_000.0, "cost": 1.0})
    assert shipped_from(decide(request(("SKU-1", 1)), snap, net, by_distance)) == ["st-near"]
    decision = decide(request(("SKU-1", 1)), snap, net, by_warehouse)
    assert shipped_from(decision) == ["wh-far"] and decision.candidates[0].score is not None
