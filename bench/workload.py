"""The benchmark's input: a simulated day, encoded once, and the rows it must end as."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.movements import movements_for
from sim import SimConfig, generate
from sim.config import day_just_ended
from sim.report import OrderBook
from streams.base import Event
from streams.codec import encode
from streams.orders import OrderPlaced
from streams.pos import PosReturn, PosSale
from streams.topics import TopicSpec

# One record as it goes on the wire: topic, key, encoded value.
WireRecord = tuple[TopicSpec, bytes, bytes]


@dataclass(frozen=True)
class Expected:
    """What the pipeline must have done once every source event is through."""

    events: int = 0
    movements: int = 0  # applied movements = ledger entries = fct_stock_movements rows
    sales_lines: int = 0  # till sale lines + online order lines = fct_sales_lines rows
    return_lines: int = 0  # fct_return_lines rows


@dataclass(frozen=True)
class Workload:
    records: list[WireRecord]
    expected: Expected

    @property
    def bytes(self) -> int:
        return sum(len(value) for _, _, value in self.records)


def expected_for(events: Iterable[Event]) -> Expected:
    """Count movements and fact lines the way the agents and the sink derive them."""
    n = movements = sales = returns = 0
    orders = OrderBook()  # a shipment or pick-up commits what is left of its order
    for event in events:
        n += 1
        movements += len(movements_for(event)) + len(orders.movements(event))
        if isinstance(event, PosSale | OrderPlaced):
            sales += len(event.lines)
        elif isinstance(event, PosReturn):
            returns += len(event.lines)
    return Expected(events=n, movements=movements, sales_lines=sales, return_lines=returns)


# The integration tests' network (tests/integration/test_simulated_day.py). Opening stock is one
# movement per SKU per node: 22 x 300 = 6,600 here, against 51,000 on the simulator's default
# 100-store, 500-SKU network, which would dominate a 3,000-event run.
STORES, WAREHOUSES, SKUS, CUSTOMERS = 20, 2, 300, 2_000


def simulated_day(events: int, seed: int = 42, stores: int = STORES, skus: int = SKUS) -> Workload:
    """`events` simulated events over the benchmark's network, encoded once."""
    # The day that just ended, as the demo's: a day of a fixed date ages with the calendar (its
    # holds expire on arrival, its points are due to the wallet timer at once), so the figures
    # would change with the date the bench is run on.
    config = SimConfig(events=events, seed=seed, stores=stores, warehouses=WAREHOUSES, skus=skus,
                       customers=CUSTOMERS, run="bench", start=day_just_ended(datetime.now(UTC)))
    emissions = list(generate(config))
    records = [(spec, key, encode(event)) for spec, key, event in emissions]
    return Workload(records=records, expected=expected_for(event for _, _, event in emissions))
