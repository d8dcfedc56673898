"""Labelled fraud in a simulated day: the cases injected, and the schedule that interleaves them.

A fraud case is a short scenario of ordinary contract events (sales, returns, voids, links) that
makes one rule's pattern; the scenarios live in `sim.fraud_scenarios`. Each case that was sent in
full gets a label, `FraudCase(rule, match, description)`: `match` holds what an alert of that
rule is matched on (any one of them is enough). Scenario steps draw from their own seeded
stream, so a day's normal traffic makes the same choices with fraud on or off (only its ids,
times and stock differ).
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streams.pricing import PriceChanged

if TYPE_CHECKING:
    from sim.state import DayState, Emission

# Where a published run's labels go unless told otherwise: beside the worker and DuckDB files.
DEFAULT_LABELS = Path(".run/sim/fraud-labels.jsonl")

Step = Callable[["DayState"], "Emission | None"]


@dataclass(frozen=True)
class FraudCase:
    """One injected case: an alert of `rule` whose keys include any of `match` detects it.

    The keys per rule: the hashed card (redemption_velocity), the hashed identifier
    (linked_accounts), the return id (return_*), the receipt id (till_price_below_central), the
    cashier id (cashier_exceptions), the customer id or the purchase keys (buy_earn_return).
    """

    rule: str
    match: tuple[str, ...]
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "match": list(self.match), "description": self.description}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FraudCase:
        return cls(data["rule"], tuple(data["match"]), data["description"])


def write_labels(cases: Iterable[FraudCase], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(case.as_dict()) + "\n" for case in cases))


def read_labels(path: Path) -> list[FraudCase]:
    return [FraudCase.from_dict(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


Scenario = Callable[["DayState", "FraudPlan"], None]


@dataclass
class FraudPlan:
    """When each case starts, the steps waiting for their time, and the labels so far."""

    rng: random.Random
    identity_key: bytes
    mean_gap_ms: float
    starts: list[tuple[datetime, int, Scenario]]  # a heap
    pending: list[tuple[datetime, int, Step]] = field(default_factory=list)  # a heap
    cases: list[FraudCase] = field(default_factory=list)
    # SKU -> nodes ("" chain-wide) repriced on pricing.changes today: the prices a re-price can see.
    repriced: dict[str, set[str]] = field(default_factory=dict)
    order: int = 0

    def stamp(self, day: DayState) -> tuple[str, datetime]:
        """The next id and time, with a gap from the fraud stream (the day's own stays untouched)."""
        return day.stamp(timedelta(milliseconds=round(self.rng.expovariate(1.0 / self.mean_gap_ms))))

    def schedule(self, at: datetime, step: Step) -> None:
        self.order += 1
        heapq.heappush(self.pending, (at, self.order, step))

    def label(self, case: FraudCase) -> None:
        self.cases.append(case)

    def observe(self, emission: Emission) -> None:
        event = emission[2]
        if isinstance(event, PriceChanged):
            self.repriced.setdefault(event.sku, set()).add(event.node or "")

    def next(self, day: DayState) -> Emission | None:
        """A case's step that is due, starting the cases whose time has come; else None."""
        while self.starts and self.starts[0][0] <= day.clock:
            _, _, scenario = heapq.heappop(self.starts)
            scenario(day, self)
        while self.pending and self.pending[0][0] <= day.clock:
            _, _, step = heapq.heappop(self.pending)
            emission = step(day)
            if emission is not None:
                return emission
        return None
