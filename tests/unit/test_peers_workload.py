"""The race's workload: duplicates change nothing, one output per input, the expected stock is the log's."""

from __future__ import annotations

import json

from bench.peers_workload import RECENT, expected_on_hand, movements, step


def test_a_movement_seen_among_the_recent_ones_changes_nothing_and_still_gets_its_output() -> None:
    state, first = step(None, {"event_id": "m-1", "sku": "S", "delta": 5})
    state, again = step(state, {"event_id": "m-1", "sku": "S", "delta": 5})
    assert (first["on_hand"], first["duplicate"]) == (5, False)
    assert (again["on_hand"], again["duplicate"]) == (5, True) and state["on_hand"] == 5


def test_only_the_last_recent_event_ids_are_kept() -> None:
    state = None
    for n in range(RECENT + 10):
        state, _ = step(state, {"event_id": f"m-{n}", "sku": "S", "delta": 1})
    assert state is not None and len(state["recent"]) == RECENT and state["recent"][-1] == f"m-{RECENT + 9}"


def test_the_workload_repeats_some_movements_and_the_expected_stock_counts_each_once() -> None:
    records = movements(5_000, 50, duplicate_share=0.05)
    ids = [m.event_id for m in records]
    assert 150 < len(ids) - len(set(ids)) < 400
    once: dict[str, int] = {}
    for m in {m.event_id: m for m in records}.values():
        once[m.sku] = once.get(m.sku, 0) + json.loads(m.value)["delta"]
    assert expected_on_hand(records) == once
