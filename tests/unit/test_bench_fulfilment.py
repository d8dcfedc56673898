"""bench.fulfilment's pure phase runs tiny and reports its figures beside the baseline as one JSON line."""

from __future__ import annotations

import json

import pytest

from bench import fulfilment
from bench.fulfilment_network import workload


def test_the_pure_phase_prints_decision_rates_and_the_first_fit_baseline_as_its_last_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    result = fulfilment.main(["--quick", "--decisions", "50", "--phases", "pure"])
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last == result
    assert (last["bench"], last["quick"], last["decisions"], last["nodes"], last["lines"]) == (
        "fulfilment", True, 50, 100, 5)
    assert last["decisions_per_s"] > 0 and last["baseline_first_fit_per_s"] > 0
    assert 0 < last["pure_decide_p50_ms"] <= last["pure_decide_p99_ms"]
    assert sum(last["outcomes"].values()) == 50


def test_the_synthetic_network_is_the_same_every_run_and_spread_over_the_netherlands() -> None:
    first, again = workload(20), workload(20)
    assert first.requests == again.requests and first.network.nodes == again.network.nodes
    kinds = [n.kind for n in first.network.nodes.values()]
    assert (kinds.count("store"), kinds.count("warehouse"), kinds.count("dark_store")) == (80, 15, 5)
    assert all(51.3 <= n.lat <= 53.4 and 4.0 <= n.lon <= 6.9 for n in first.network.nodes.values())
    stocked = sum(len(first.snapshot.atp(f"SKU-{s:05d}")) for s in range(2_000)) / 2_000
    assert 55 <= stocked <= 65  # ~60 % of the 100 nodes
