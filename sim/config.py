"""What a simulated day looks like: its size, its seed and when it starts."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# A fixed simulated start: generation never reads the wall clock.
DEFAULT_START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
# Ids embed the run label, so it must stay inside the contract's id alphabet.
RUN_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,19}$")


def day_just_ended(now: datetime) -> datetime:
    """The start of the simulated day that has just ended at `now`: 15 hours before the current
    hour. A day dated so is judged as today's by holds, pick-up windows and return windows; a day
    weeks old would find them all over (the caller passes its clock: nothing here reads one)."""
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=15)


@dataclass(frozen=True)
class SimConfig:
    """The knobs of one simulated day; the same config always yields the same events."""

    events: int = 10_000
    seed: int = 42
    stores: int = 100
    warehouses: int = 2
    skus: int = 500
    customers: int = 5_000
    rate: float = 0.0  # events per second when publishing; 0 means as fast as possible
    run: str = "sim"
    start: datetime = field(default=DEFAULT_START)
    # Share of events that open a labelled fraud case (sim.fraud_scenarios); 0 sends none.
    fraud: float = 0.002

    def __post_init__(self) -> None:
        _check(0 <= self.events <= 10_000_000, "events must be between 0 and 10,000,000")
        _check(0 <= self.seed < 2**63, "seed must be a non-negative 63-bit integer")
        _check(1 <= self.stores <= 9_999, "stores must be between 1 and 9,999")
        _check(1 <= self.warehouses <= 99, "warehouses must be between 1 and 99")
        _check(1 <= self.skus <= 99_999, "skus must be between 1 and 99,999")
        _check(1 <= self.customers <= 9_999_999, "customers must be between 1 and 9,999,999")
        _check(self.rate >= 0, "rate must be 0 (unlimited) or positive")
        _check(bool(RUN_LABEL.match(self.run)), "run must be lower-case letters, digits and dashes")
        _check(self.start.tzinfo is not None, "start must be timezone-aware")
        _check(0 <= self.fraud <= 0.05, "fraud must be between 0 and 0.05 (a share of events)")

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["start"] = self.start.isoformat()
        return values


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)
