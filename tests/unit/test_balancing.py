"""Store balancing, pure: which transfers it proposes, and the invariants every proposal keeps."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.fulfilment.balancing import (
    COVER_CAP_DAYS,
    BalancingParams,
    Position,
    Stand,
    haversine_km,
    keep_units,
    nodes_to_balance,
    propose,
    spare_units,
)
from domain.fulfilment.network import NetworkLog
from streams.codec import decode, encode
from streams.fulfilment import NodeDefined, TransferSuggested
from streams.topics import INVENTORY_TRANSFER_SUGGESTIONS

AS_OF = datetime(2025, 3, 20, 5, 0, tzinfo=UTC)
SKU = "SKU-100234"
PARAMS = BalancingParams()  # 14 days, over 28 gives, under 7 gets, filled to 14, 2 on display, 2 at least, 3 per SKU


def sold(per_day: float, days: int = PARAMS.window_days) -> int:
    return round(per_day * days)


def test_moves_units_from_a_slow_store_with_excess_cover_to_a_fast_store_running_out() -> None:
    positions = [Position(SKU, "store-0017", 48), Position(SKU, "store-0042", 12)]
    sales = {(SKU, "store-0017"): 6, (SKU, "store-0042"): 70}  # 0.43 and 5 a day

    [suggestion] = propose(positions, sales, AS_OF, PARAMS)

    assert (suggestion.from_node, suggestion.to_node, suggestion.quantity) == ("store-0017", "store-0042", 42)
    assert (suggestion.from_on_hand, suggestion.to_on_hand) == (48, 12)
    assert (suggestion.from_daily_sales, suggestion.to_daily_sales) == (0.429, 5.0)
    assert (suggestion.from_cover_days_before, suggestion.from_cover_days_after) == (112.0, 14.0)
    assert (suggestion.to_cover_days_before, suggestion.to_cover_days_after) == (2.4, 10.8)
    assert suggestion.as_of == suggestion.occurred_at == AS_OF
    assert suggestion.source_node == "hq"
    assert "42 units: store-0017 sells 0.43/day" in suggestion.reason


def test_suggests_nothing_when_every_store_has_enough_cover() -> None:
    positions = [Position(SKU, "store-0017", 60), Position(SKU, "store-0042", 50)]
    sales = {(SKU, "store-0017"): sold(1), (SKU, "store-0042"): sold(5)}  # 60 and 10 days of cover

    assert propose(positions, sales, AS_OF, PARAMS) == []


def test_a_donor_keeps_its_own_fill_cover_and_the_display_minimum() -> None:
    positions = [Position(SKU, "store-0017", 40), Position(SKU, "store-0105", 40), Position(SKU, "store-0042", 0)]
    sales = {(SKU, "store-0017"): sold(1), (SKU, "store-0105"): 0, (SKU, "store-0042"): sold(10)}

    by_donor = {s.from_node: s for s in propose(positions, sales, AS_OF, PARAMS)}

    assert by_donor["store-0017"].quantity == 40 - 14  # keeps 14 days at 1 a day
    assert by_donor["store-0105"].quantity == 40 - PARAMS.min_display_units  # sold nothing: keeps the display
    assert by_donor["store-0105"].from_cover_days_before == COVER_CAP_DAYS


def test_units_held_for_orders_are_not_offered() -> None:
    positions = [Position(SKU, "store-0017", 40, atp=20), Position(SKU, "store-0042", 0)]
    sales = {(SKU, "store-0017"): sold(1), (SKU, "store-0042"): sold(10)}

    [suggestion] = propose(positions, sales, AS_OF, PARAMS)

    assert suggestion.quantity == 20 - 14


def test_units_in_transit_count_towards_the_recipients_cover() -> None:
    donor = Position(SKU, "store-0017", 100)
    sales = {(SKU, "store-0017"): sold(1), (SKU, "store-0042"): sold(2)}

    covered = propose([donor, Position(SKU, "store-0042", 2, in_transit=20)], sales, AS_OF, PARAMS)
    [topped_up] = propose([donor, Position(SKU, "store-0042", 2, in_transit=6)], sales, AS_OF, PARAMS)

    assert covered == []  # 2 on hand and 20 coming: 11 days
    assert topped_up.quantity == 28 - 2 - 6
    assert "(+6 in transit)" in topped_up.reason


def test_prefers_the_nearest_donor_when_coordinates_are_given() -> None:
    positions = [Position(SKU, "store-0017", 100), Position(SKU, "store-0230", 100), Position(SKU, "store-0042", 0)]
    sales = {(SKU, "store-0017"): sold(1), (SKU, "store-0230"): 0, (SKU, "store-0042"): sold(3)}
    where = {"store-0042": (52.3702, 4.8910), "store-0017": (52.0907, 5.1214), "store-0230": (51.4416, 5.4697)}

    nearest = propose(positions, sales, AS_OF, PARAMS, coordinates=where)
    longest_cover = propose(positions, sales, AS_OF, PARAMS)

    assert [s.from_node for s in nearest] == ["store-0017"]  # Utrecht, not Eindhoven
    assert [s.from_node for s in longest_cover] == ["store-0230"]  # no distances: it sold nothing


def test_a_donor_that_sells_faster_than_the_recipient_is_not_used() -> None:
    positions = [Position(SKU, "store-0017", 400), Position(SKU, "store-0042", 1)]
    sales = {(SKU, "store-0017"): sold(10), (SKU, "store-0042"): sold(1)}  # 40 days against 1 day

    assert propose(positions, sales, AS_OF, PARAMS) == []


def test_never_suggests_fewer_than_min_units() -> None:
    positions = [Position(SKU, "store-0017", 17), Position(SKU, "store-0042", 0)]
    sales = {(SKU, "store-0017"): sold(0.5), (SKU, "store-0042"): sold(1)}  # the donor can spare 17 - 7 = 10

    assert propose(positions, sales, AS_OF, BalancingParams(min_units=11)) == []
    assert [s.quantity for s in propose(positions, sales, AS_OF, BalancingParams(min_units=10))] == [10]


def test_caps_the_suggestions_per_sku_most_urgent_recipient_first() -> None:
    recipients = [Position(SKU, f"store-00{n}", n - 10) for n in range(10, 15)]  # 0 to 4 on hand
    positions = [Position(SKU, "store-0999", 1_000), *recipients]
    sales = {(SKU, p.node): sold(2) for p in recipients}

    suggestions = propose(positions, sales, AS_OF, BalancingParams(max_per_sku=2))

    assert [s.to_node for s in suggestions] == ["store-0010", "store-0011"]


def test_skus_are_balanced_each_on_their_own_in_sku_order() -> None:
    positions = [Position(sku, node, on_hand) for sku in ("SKU-200871", "SKU-100234")
                 for node, on_hand in (("store-0017", 100), ("store-0042", 0))]
    sales = {(sku, "store-0042"): sold(3) for sku in ("SKU-200871", "SKU-100234")}

    assert [s.sku for s in propose(positions, sales, AS_OF, PARAMS)] == ["SKU-100234", "SKU-200871"]


def test_rerunning_the_same_day_yields_the_same_ids_and_another_day_new_ones() -> None:
    positions = [Position(SKU, "store-0017", 48), Position(SKU, "store-0042", 12)]
    sales = {(SKU, "store-0017"): 6, (SKU, "store-0042"): 70}

    morning = propose(positions, sales, AS_OF, PARAMS)
    evening = propose(positions, sales, AS_OF + timedelta(hours=12), PARAMS)
    tomorrow = propose(positions, sales, AS_OF + timedelta(days=1), PARAMS)

    assert [s.suggestion_id for s in morning] == ["balance/2025-03-20/SKU-100234/store-0017/store-0042"]
    assert [(s.suggestion_id, s.event_id) for s in evening] == [(s.suggestion_id, s.event_id) for s in morning]
    assert tomorrow[0].suggestion_id == "balance/2025-03-21/SKU-100234/store-0017/store-0042"


def test_every_suggestion_survives_the_codec_even_with_unlimited_cover() -> None:
    positions = [Position(SKU, "store-0017", 30), Position(SKU, "store-0042", 0)]
    [suggestion] = propose(positions, {(SKU, "store-0042"): sold(4)}, AS_OF, PARAMS)

    raw = encode(suggestion)

    assert suggestion.from_cover_days_after == COVER_CAP_DAYS
    assert decode(INVENTORY_TRANSFER_SUGGESTIONS, raw, 262_144) == suggestion
    assert INVENTORY_TRANSFER_SUGGESTIONS.key_for(suggestion) == SKU.encode()


def test_two_positions_for_one_sku_and_node_are_refused() -> None:
    with pytest.raises(ValueError, match="two positions for SKU-100234@store-0042"):
        propose([Position(SKU, "store-0042", 1), Position(SKU, "store-0042", 2)], {}, AS_OF, PARAMS)


@pytest.mark.parametrize(("change", "message"), [
    ({"target_cover_days": 15}, "target_cover_days <= fill_cover_days"),
    ({"fill_cover_days": 30}, "fill_cover_days <= excess_cover_days"),
    ({"window_days": 0}, "window_days"),
    ({"min_units": 0}, "min_units"),
])
def test_params_that_contradict_each_other_are_refused(change: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BalancingParams(**change)  # type: ignore[arg-type]


def test_the_nodes_to_balance_are_the_active_stores_and_dark_stores_of_the_network() -> None:
    log = NetworkLog()
    for version, (node, kind, active) in enumerate([
        ("store-0042", "store", True), ("ds-amsterdam-west", "dark_store", True), ("dc-north", "warehouse", True),
        ("store-0017", "store", False),
    ], start=1):
        log.add(NodeDefined(event_id=f"n{version}", occurred_at=AS_OF, source_node="hq", node_id=node, version=1,
                            effective_from=AS_OF - timedelta(days=1), kind=kind, lat=52.0 + version, lon=5.0,
                            active=active))  # type: ignore[arg-type]

    assert nodes_to_balance(log.as_of(AS_OF)) == {"ds-amsterdam-west": (54.0, 5.0), "store-0042": (53.0, 5.0)}


def test_haversine_measures_amsterdam_to_utrecht_as_the_crow_flies() -> None:
    assert haversine_km(52.3702, 4.8910, 52.0907, 5.1214) == pytest.approx(34.8, abs=0.1)
    assert haversine_km(52.0, 5.0, 52.0, 5.0) == 0


# --- invariants ------------------------------------------------------------------------------

NODES = ("store-0017", "store-0042", "store-0105", "store-0230", "ds-amsterdam-west")


@st.composite
def networks(draw: st.DrawFn) -> tuple[list[Position], dict[tuple[str, str], int], BalancingParams]:
    positions, sales = [], {}
    for sku in draw(st.lists(st.sampled_from(["SKU-100234", "SKU-200871", "SKU-300512"]), min_size=1, unique=True)):
        for node in draw(st.lists(st.sampled_from(NODES), min_size=1, unique=True)):
            on_hand = draw(st.integers(-5, 400))
            atp = draw(st.none() | st.integers(0, max(on_hand, 0)))
            positions.append(Position(sku, node, on_hand, atp, draw(st.integers(0, 30))))
            sales[(sku, node)] = draw(st.integers(0, 300))
    target = draw(st.floats(1, 10))
    fill = draw(st.floats(target, 30))
    params = BalancingParams(
        window_days=draw(st.integers(1, 28)), target_cover_days=target, fill_cover_days=fill,
        excess_cover_days=draw(st.floats(fill, 60)), min_display_units=draw(st.integers(0, 5)),
        min_units=draw(st.integers(1, 6)), max_per_sku=draw(st.integers(1, 6)),
    )
    return positions, sales, params


def _rate(sales: dict[tuple[str, str], int], params: BalancingParams, sku: str, node: str) -> float:
    return sales.get((sku, node), 0) / params.window_days


def _moved(suggestions: list[TransferSuggested]) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    given: dict[tuple[str, str], int] = defaultdict(int)
    taken: dict[tuple[str, str], int] = defaultdict(int)
    for s in suggestions:
        given[(s.sku, s.from_node)] += s.quantity
        taken[(s.sku, s.to_node)] += s.quantity
    return given, taken


@given(networks())
@settings(max_examples=300, deadline=None)
def test_a_donor_never_gives_more_than_its_excess_nor_drops_below_what_it_keeps(case) -> None:  # type: ignore[no-untyped-def]
    positions, sales, params = case
    given, _ = _moved(propose(positions, sales, AS_OF, params))
    for p in positions:
        stand = Stand(p, _rate(sales, params, p.sku, p.node))
        assert given[(p.sku, p.node)] <= spare_units(stand, params)
        if given[(p.sku, p.node)]:
            assert p.on_hand - given[(p.sku, p.node)] >= keep_units(stand, params) >= params.min_display_units


@given(networks())
@settings(max_examples=300, deadline=None)
def test_a_suggestion_never_goes_from_a_node_to_itself_and_moves_at_least_min_units(case) -> None:  # type: ignore[no-untyped-def]
    positions, sales, params = case
    suggestions = propose(positions, sales, AS_OF, params)
    assert all(s.from_node != s.to_node for s in suggestions)
    assert all(s.quantity >= params.min_units for s in suggestions)
    per_sku: dict[str, int] = defaultdict(int)
    for s in suggestions:
        per_sku[s.sku] += 1
    assert all(count <= params.max_per_sku for count in per_sku.values())


@given(networks())
@settings(max_examples=300, deadline=None)
def test_the_units_on_hand_are_conserved(case) -> None:  # type: ignore[no-untyped-def]
    positions, sales, params = case
    given, taken = _moved(propose(positions, sales, AS_OF, params))
    before = sum(p.on_hand for p in positions)
    after = sum(p.on_hand - given[(p.sku, p.node)] + taken[(p.sku, p.node)] for p in positions)
    assert after == before
    assert set(given) | set(taken) <= {(p.sku, p.node) for p in positions}


@given(networks(), st.randoms(use_true_random=False))
@settings(max_examples=200, deadline=None)
def test_the_same_inputs_in_any_order_give_the_same_suggestions(case, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    positions, sales, params = case
    shuffled = positions[:]
    rng.shuffle(shuffled)
    reordered = dict(sorted(sales.items(), key=lambda _: rng.random()))
    assert propose(shuffled, reordered, AS_OF, params) == propose(positions, sales, AS_OF, params)


@given(networks())
@settings(max_examples=300, deadline=None)
def test_recipients_sell_faster_than_their_donors(case) -> None:  # type: ignore[no-untyped-def]
    positions, sales, params = case
    for s in propose(positions, sales, AS_OF, params):
        assert _rate(sales, params, s.sku, s.to_node) > _rate(sales, params, s.sku, s.from_node)
        assert s.to_daily_sales > s.from_daily_sales
        # never past the fill: at most one unit over it (rounding up), shown to a tenth of a day
        assert s.to_cover_days_after <= params.fill_cover_days + 1 / s.to_daily_sales + 0.05


@given(networks())
@settings(max_examples=100, deadline=None)
def test_every_suggestion_decodes_to_itself(case) -> None:  # type: ignore[no-untyped-def]
    positions, sales, params = case
    for s in propose(positions, sales, AS_OF, params):
        assert decode(INVENTORY_TRANSFER_SUGGESTIONS, encode(s), 262_144) == s
