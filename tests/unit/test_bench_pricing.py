"""bench.pricing's pure phase runs tiny and reports its figures beside the list-price baseline as one JSON line."""

from __future__ import annotations

import json

import pytest

from bench import pricing
from bench.pricing_book import workload


def test_the_pure_phase_prints_basket_rates_and_the_list_price_baseline_as_its_last_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    result = pricing.main(["--quick", "--baskets", "50", "--phases", "pure"])
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last == result
    assert (last["bench"], last["quick"], last["baskets"], last["promotions_active"], last["lines_per_basket"]) == (
        "pricing", True, 50, 200, 10)
    assert last["baskets_per_s"] > 0 and last["baseline"]["name"] == "sum_of_list_prices"
    assert last["baseline"]["baskets_per_s"] > 0
    assert 0 < last["price_us_p50"] <= last["price_us_p99"]


def test_the_synthetic_workload_is_the_same_every_run() -> None:
    first, again = workload(20), workload(20)
    assert first.baskets == again.baskets and first.book.version == again.book.version
    assert all(len(b.lines) == 10 for b, _ in first.baskets)
