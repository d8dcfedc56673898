"""`python -m sim`: a summary for people and, on its last line, the report for programs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.__main__ import main
from sim.config import SimConfig
from sim.publish import run
from sim.report import Report

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--events", "300", "--seed", "4", "--stores", "3", "--skus", "20", "--customers", "25", "--dry-run"]
CONFIG = SimConfig(events=300, seed=4, stores=3, skus=20, customers=25)


def test_a_dry_run_prints_a_summary_then_the_report_as_its_last_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main([*ARGS, "--no-progress", "--report", str(tmp_path / "out" / "report.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("generated (dry run) 300 events")
    assert Report.from_json(lines[-1]) == run(CONFIG, publish=False)
    assert (tmp_path / "out" / "report.json").read_text().strip() == lines[-1]


def test_a_config_outside_the_limits_exits_with_usage_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stores", "0", "--dry-run"]) == 2
    assert "stores" in capsys.readouterr().err


def test_the_same_seed_gives_the_same_report_in_another_process_and_hash_seed() -> None:
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-m", "sim", *ARGS, "--no-progress"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(Report.from_json(done.stdout.splitlines()[-1]).digest)
    assert digests == {run(CONFIG, publish=False).digest}
