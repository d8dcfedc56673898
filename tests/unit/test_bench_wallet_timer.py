"""bench.wallet_timer runs and reports its figures beside its baselines as one JSON line."""

from __future__ import annotations

import json

import pytest

from bench import wallet_timer


def test_the_quick_run_prints_figures_and_baselines_as_its_last_line(capsys: pytest.CaptureFixture[str]) -> None:
    result = wallet_timer.main(["--quick", "--no-live"])  # the live phase needs a broker
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last == result and last["wallets"] == 2_000
    assert last["index_rebuild_wallets_per_s"] > 0 and last["advance_decisions_per_s"] > 0
    assert set(last["baseline"]) == {"json_loads_wallets_per_s", "earn_decisions_per_s"}
