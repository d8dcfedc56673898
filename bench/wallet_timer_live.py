"""The wallet timer on a real worker: many wallets fall due at once; how long until every
maturity is in the ledger, against the same number of earns through the same stage.

One worker (a private stack on the local broker) whose business clock reads a clock file:
`count` customers earn one lot each with a 30-day return window (baseline: earns applied per
second, one posting each), then the clock jumps 31 days and every wallet is due at the same
moment; timed until the worker posted every `mature` (one posting per wallet). The timer paces
itself (`ADVANCES_PER_S` per worker), so that is the bound to compare with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.authority import start_workers, trouble
from bench.e2e import publish
from bench.inventory import close
from bench.loyalty_ledger import ledger
from bench.loyalty_workload import customer
from bench.stack import Stack
from ops.clock import set_clock_file
from streams.codec import encode
from streams.loyalty import EarnPoints
from streams.topics import LOYALTY_COMMANDS

WINDOW = timedelta(days=30)
TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Live:
    wallets: int
    earns_per_s: float
    advances_per_s: float
    all_matured_s: float


def measure(bootstrap: str, count: int, progress: bool) -> Live:
    stack = Stack.create(bootstrap)
    clock_file = stack.root / "clock"
    set_clock_file(str(clock_file), timedelta(0))
    stack.env["OMNI_CLOCK_FILE"] = str(clock_file)
    try:
        services, _ = start_workers(stack, 1)
        offsets = ledger(stack.settings)
        try:
            now = datetime.now(UTC)
            records = []
            for i in range(count):
                who = customer(stack.run, i)
                earn = EarnPoints(event_id=f"bt-{stack.run}-{i}", occurred_at=now, source_node="bench",
                                  customer_id=who, lot_id=f"bt-{stack.run}-{i}:1", points=10,
                                  return_window_s=int(WINDOW.total_seconds()))
                records.append((LOYALTY_COMMANDS, who.encode(), encode(earn)))
            base = offsets.total()
            t0 = time.monotonic()
            publish(stack.settings, records, progress)
            earned = offsets.wait_for(base + count, TIMEOUT_S, lambda: trouble(services), progress, "earns")
            set_clock_file(str(clock_file), WINDOW + timedelta(days=1))
            t1 = time.monotonic()
            matured = offsets.wait_for(base + 2 * count, TIMEOUT_S, lambda: trouble(services), progress, "maturity")
        finally:
            offsets.close()
    finally:
        close(stack, keep=False)
    return Live(count, round(count / (earned - t0), 1), round(count / (matured - t1), 1), round(matured - t1, 2))
