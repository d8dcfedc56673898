"""The backtest: a tiny simulated month replayed under warehouse-first and the network profile."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from analytics.backtest import PROFILES, Setup, backtest, world_of
from analytics.backtest_report import as_json, render
from domain.fulfilment.backtest.figures import figures
from domain.fulfilment.backtest.month import SAME_DAY_HOURS, ZONE, delivery_of
from domain.fulfilment.backtest.replay import Decide, Replayed, rejection, replay
from domain.fulfilment.backtest.scenario import WalkIn
from domain.fulfilment.backtest.sensitivity import RADII_KM, STORE_VS_WAREHOUSE
from domain.fulfilment.backtest.world import World
from domain.fulfilment.network import Network
from domain.fulfilment.sourcing import Decision, Request, Snapshot, decide
from streams.fulfilment import Elimination, PlannedLine, ProfileDefined, Shipment

TINY = Setup(seed=7, days=3, orders_per_day=80, stores=10, warehouses=2, skus=200, customers=400)


def run(profile_id: str, sourcing: Decide = decide) -> Replayed:
    world = world_of(TINY)
    return replay(world.scenario, world.network, world.profiles[profile_id], sourcing)


@pytest.fixture(scope="module")
def replays() -> dict[str, Replayed]:
    return {profile_id: run(profile_id) for profile_id in PROFILES}


def test_two_runs_with_the_same_seed_print_the_same_report() -> None:
    first, _ = backtest(TINY)
    world_of.cache_clear()
    second, _ = backtest(TINY)
    assert render(first) == render(second)
    assert as_json(first) == as_json(second)


def test_the_month_is_dated_from_its_start_and_same_day_orders_come_before_the_cutoff() -> None:
    orders = world_of(TINY).scenario.orders
    first_day = TINY.start.astimezone(ZoneInfo(ZONE)).date()
    days = {order.at.astimezone(ZoneInfo(ZONE)).date() for order in orders}
    assert min(days) == first_day and max(days) == first_day + timedelta(days=TINY.days - 1)
    assert [o.at for o in orders] == sorted(o.at for o in orders)
    same_day = [o for o in orders if o.method == "same_day"]
    assert same_day and all(o.at.astimezone(ZoneInfo(ZONE)).hour in SAME_DAY_HOURS for o in same_day)
    assert set(Counter(delivery_of(o) for o in orders)) == {"standard", "express", "same_day", "pickup"}


def test_warehouse_first_never_ships_or_delivers_same_day_from_a_store(replays: dict[str, Replayed]) -> None:
    nodes = replays["warehouse-first"].world.nodes
    from_stores = [(o.order_id, s.node, s.method) for o in replays["warehouse-first"].outcomes for s in o.shipments
                   if nodes[s.node].kind == "store" and s.method != "pickup"]
    assert from_stores == []


def test_the_network_profile_ships_from_stores(replays: dict[str, Replayed]) -> None:
    nodes = replays["network"].world.nodes
    assert any(nodes[s.node].kind == "store" and s.method != "pickup"
               for o in replays["network"].outcomes for s in o.shipments)


def test_stock_never_goes_negative_in_the_replay_world() -> None:
    lowest: list[int] = []

    def watching(request: Request, snapshot: Snapshot, network: Network, profile: ProfileDefined) -> Decision:
        assert isinstance(snapshot, World)
        lowest.append(min(units for by_node in snapshot.on_hand.values() for units in by_node.values()))
        return decide(request, snapshot, network, profile)

    for profile_id in PROFILES:
        replayed = run(profile_id, watching)
        lowest.append(min(units for by_node in replayed.world.on_hand.values() for units in by_node.values()))
    assert min(lowest) >= 0


def test_no_capacity_slot_is_used_beyond_its_capacity(replays: dict[str, Replayed]) -> None:
    for replayed in replays.values():
        world = replayed.world
        assert world.used
        over = {key: used for key, used in world.used.items() if used > world.capacity(*key)}  # type: ignore[arg-type]
        assert over == {}


def test_planned_rejected_waiting_and_refused_orders_add_up_to_the_orders(replays: dict[str, Replayed]) -> None:
    for replayed in replays.values():
        f = figures(replayed, store_units_per_hour=25)
        assert f.orders == len(world_of(TINY).scenario.orders)
        assert f.planned + f.rejected + f.waiting + f.refused == f.orders
        assert sum(f.planned_by_delivery.values()) == f.planned
        assert sum(f.asked_by_delivery.values()) == f.orders
        assert f.walk_ins == len(world_of(TINY).scenario.walk_ins)


def test_the_sensitivity_table_has_a_row_per_store_cost_and_radius() -> None:
    report, _ = backtest(TINY)
    labels = [row.variant.label for row in report.sensitivity]
    assert len(labels) == len(STORE_VS_WAREHOUSE) + len(RADII_KM) - 1
    assert labels[:5] == ["store parcel -40% vs warehouse", "store parcel -20% vs warehouse", "as published",
                          "store parcel +15% vs warehouse", "store parcel +30% vs warehouse"]
    assert labels[5:] == ["same-day radius 3 km", "same-day radius 10 km"]
    dearer = [row.store_vs_warehouse_pct for row in report.sensitivity[:5]]
    assert dearer == sorted(dearer)
    assert dearer[0] == pytest.approx(-40, abs=1.5) and dearer[-1] == pytest.approx(30, abs=1.5)
    assert "Sensitivity" in render(report)


# --- the world on its own ----------------------------------------------------------------------

SLOT = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Amsterdam: stores are open


def shipment(node: str, units: int, sku: str = "SKU-00001", capacity_units: int = 1) -> Shipment:
    return Shipment(node=node, method="ship", lines=[PlannedLine(sku=sku, quantity=units)], slot_start=SLOT,
                    ready_at=SLOT, promised_at=SLOT, km=1.0, cost_cents=100, capacity_units=capacity_units)


def fresh_world() -> World:
    return World.of(world_of(TINY).scenario)


def test_a_plan_the_world_cannot_hold_is_refused_and_takes_nothing() -> None:
    world = fresh_world()
    store = "st-001"
    sku = next(sku for sku, by_node in world.on_hand.items() if by_node.get(store, 0) >= 2)
    before = world.on_hand[sku][store]
    assert not world.hold((shipment(store, 1, sku), shipment("wh-01", 100_000, sku)))
    assert world.on_hand[sku][store] == before and world.used == {} and world.tally.refused == 1
    assert world.hold((shipment(store, 1, sku),))
    assert world.on_hand[sku][store] == before - 1 and world.tally.store_units_picked == 1


def test_a_slot_takes_no_more_than_its_capacity() -> None:
    world = fresh_world()
    sku = next(sku for sku, by_node in world.on_hand.items() if by_node.get("st-001", 0) >= 1)
    per_hour = world.capacity("st-001", "ship", SLOT)
    assert per_hour > 0
    assert not world.hold((shipment("st-001", 1, sku, capacity_units=per_hour + 1),))
    assert world.hold((shipment("st-001", 1, sku, capacity_units=per_hour),))
    assert world.free_capacity("st-001", "ship", SLOT) == 0
    assert world.capacity("st-001", "ship", SLOT.replace(hour=23)) == 0  # the store is closed at midnight


def test_a_walk_in_sale_on_an_empty_shelf_is_a_stock_out_and_a_restock_refills_it() -> None:
    world = fresh_world()
    store = "st-001"
    sku = next(sku for sku, by_node in world.on_hand.items() if by_node.get(store, 0) >= 1)
    level = world.on_hand[sku][store]
    world.hold((shipment(store, level, sku),))
    world.walk_in(WalkIn(at=SLOT, store=store, sku=sku))
    assert (world.tally.walk_in_stockouts, world.tally.walk_in_stockouts_after_online) == (1, 1)
    world.restock()
    assert world.on_hand[sku][store] == level
    world.walk_in(WalkIn(at=SLOT, store=store, sku=sku))
    assert world.on_hand[sku][store] == level - 1 and world.tally.walk_in_stockouts == 1


def test_a_rejection_is_put_down_to_radius_capacity_or_stock() -> None:
    def gone(node: str, reason: str) -> Elimination:
        return Elimination(node=node, reason=reason)  # type: ignore[arg-type]

    allowed = frozenset({"st-001", "st-002"})
    assert rejection((gone("st-001", "out_of_radius"), gone("st-002", "out_of_radius")), allowed) == "radius"
    assert rejection((gone("st-001", "out_of_radius"), gone("st-002", "no_capacity")), allowed) == "capacity"
    assert rejection((gone("st-001", "out_of_radius"),), allowed) == "stock"  # st-002 lacked a line's units
    assert rejection((gone("wh-01", "kind_not_allowed"), gone("st-002", "not_enough_atp")), allowed) == "stock"


def never(request: Request, snapshot: Snapshot, network: Network, profile: ProfileDefined) -> Decision:
    return Decision("rejected", "no")


def test_a_replay_counts_every_order_even_when_nothing_is_planned() -> None:
    ticks: list[int] = []
    world = world_of(TINY)
    replayed = replay(world.scenario, world.network, world.profiles["network"], never, ticks.append)
    assert sum(ticks) == len(replayed.outcomes) == len(world.scenario.orders)
    assert {o.outcome for o in replayed.outcomes} == {"rejected"}
    assert replayed.tally.store_units_picked == 0

