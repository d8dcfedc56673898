"""Business time: the wall clock, shifted by a setting so a test or a drill can run "45 days later".

Services ask `Clock.now()` when they stamp a command they mint (an HTTP hold, a wallet tick, a
stock hold expiry) or decide what is due. The domain never reads a clock: it decides by each
command's own time. Operational time (lags, timeouts, intervals) stays on the real clock.

`OMNI_CLOCK_SHIFT` (e.g. `45d`) moves "now" for the whole life of a process; `OMNI_CLOCK_FILE`
names a file holding a further shift, re-read whenever it changes, so a test can move a running
worker's clock forward without restarting it. Time only moves by what the file says: a test
that shortens the shift moves the worker back in time, which a real clock never does.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

log = logging.getLogger("omnistream.clock")
_DURATION = re.compile(r"^\s*(?P<sign>[-+]?)(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[smhd]?)\s*$")
_UNIT_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_shift(text: str) -> timedelta:
    """`45d`, `-2h`, `90m`, `30s` or plain seconds (`3600`) as a timedelta; empty is zero."""
    if not text.strip():
        return timedelta(0)
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"clock shift {text!r} is not a duration: write e.g. 45d, -2h, 90m, 30s or 3600")
    seconds = float(match["amount"]) * _UNIT_S[match["unit"]]
    return timedelta(seconds=-seconds if match["sign"] == "-" else seconds)


class Clock:
    """`now()`: the wall clock plus a fixed shift plus whatever the clock file says."""

    def __init__(self, shift: timedelta = timedelta(0), file: str = "",
                 wall: Callable[[], float] = time.time) -> None:
        self.shift = shift
        self.file = file
        self._wall = wall
        self._file_stamp: tuple[int, int, int] | None = None
        self._file_shift = timedelta(0)

    @classmethod
    def from_settings(cls, shift: str, file: str) -> Clock:
        return cls(parse_shift(shift), file)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._wall(), UTC) + self.shift + self._read_file()

    def total_shift(self) -> timedelta:
        """How far business time is from the wall clock now."""
        return self.shift + self._read_file()

    def _read_file(self) -> timedelta:
        if not self.file:
            return timedelta(0)
        try:
            stat = os.stat(self.file)
            stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # a replaced file is a new inode
            if stamp != self._file_stamp:
                self._file_stamp = stamp  # a bad file is reported once, not on every call
                with open(self.file, encoding="utf-8") as f:
                    shift = parse_shift(f.read())
                datetime.now(UTC) + shift  # noqa: B018 (an out-of-range shift raises OverflowError here)
                self._file_shift = shift
        except FileNotFoundError:
            self._file_stamp, self._file_shift = None, timedelta(0)
        except (ValueError, OverflowError, OSError) as err:
            log.warning("clock file %s unusable (%s): keeping the shift it had, %s", self.file, err, self._file_shift)
        return self._file_shift


def set_clock_file(path: str, shift: timedelta) -> None:
    """Write `shift` into a clock file atomically (for tests moving a running worker's clock)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{shift.total_seconds():.6f}")
    os.replace(tmp, path)
