"""Business time: a shift from the settings and a clock file a test can rewrite while a process runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ops.clock import Clock, parse_shift, set_clock_file

WALL = datetime(2030, 5, 17, 12, tzinfo=UTC).timestamp()  # any fixed moment: the wall clock is injected


@pytest.mark.parametrize(("text", "shift"), [
    ("45d", timedelta(days=45)), ("-2h", timedelta(hours=-2)), ("90m", timedelta(minutes=90)),
    ("30s", timedelta(seconds=30)), ("3600", timedelta(hours=1)), ("", timedelta(0)), ("1.5d", timedelta(hours=36)),
])
def test_a_shift_is_a_duration_with_a_unit(text: str, shift: timedelta) -> None:
    assert parse_shift(text) == shift


def test_a_shift_that_is_not_a_duration_says_how_to_write_one() -> None:
    with pytest.raises(ValueError, match="45d, -2h"):
        parse_shift("next tuesday")


def test_now_is_the_wall_clock_moved_by_the_setting_and_by_the_file_as_it_changes(tmp_path: Path) -> None:
    file = tmp_path / "clock"
    clock = Clock(parse_shift("45d"), str(file), wall=lambda: WALL)
    start = datetime.fromtimestamp(WALL, UTC)
    assert clock.now() == start + timedelta(days=45)  # no file yet: the setting alone
    set_clock_file(str(file), timedelta(days=30))
    assert clock.now() == start + timedelta(days=75)
    set_clock_file(str(file), timedelta(days=366))
    assert clock.now() == start + timedelta(days=411)
    assert clock.total_shift() == timedelta(days=411)


def test_a_clock_file_that_cannot_be_read_keeps_the_last_good_shift(tmp_path: Path) -> None:
    file = tmp_path / "clock"
    clock = Clock(timedelta(0), str(file), wall=lambda: WALL)
    set_clock_file(str(file), timedelta(days=2))
    assert clock.total_shift() == timedelta(days=2)
    file.write_text("next tuesday")
    assert clock.total_shift() == timedelta(days=2)
    file.write_text("99999999999d")  # beyond what a datetime can hold
    assert clock.total_shift() == timedelta(days=2)
    file.unlink()
    assert clock.total_shift() == timedelta(0)
