"""The analytics benchmark's input: simulated events on the topics the sink reads, encoded once."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from aiokafka import AIOKafkaProducer
from tqdm import tqdm

from analytics.sink import FACT_SOURCES
from bench.workload import CUSTOMERS, SKUS, STORES, WAREHOUSES
from domain.movements import movements_for
from domain.stock import SkuStock
from settings import Settings
from sim import SimConfig
from sim.day import simulate
from sim.report import OrderBook
from streams.base import Event
from streams.codec import encode
from streams.topics import INVENTORY_LEDGER, TopicSpec
from tables.stock_once import apply

# Share of the simulator's events that land on a topic the sink reads (pos.transactions and
# web.orders: ~82%); the rest (stock adjustments, transfers, identifiers, prices) only reach
# DuckDB through the worker, which this benchmark does not run.
SINK_SHARE = 0.8


@dataclass(frozen=True)
class SinkRecord:
    spec: TopicSpec
    key: bytes
    raw: bytes


@dataclass(frozen=True)
class SinkDay:
    records: list[SinkRecord]
    events: list[Event]  # the first few thousand, decoded: the lag phase re-sends them with fresh ids

    @property
    def bytes(self) -> int:
        return sum(len(r.raw) for r in self.records)


LAG_TOPICS = {"pos.transactions", "web.orders"}


def sink_day(records: int, seed: int, keep_events: int = 20_000, ledger: bool = False) -> SinkDay:
    """The first `records` simulated events that the sink reads, on the pipeline bench's network;
    with `ledger`, the stock ledger entries the worker would make of them come after each event."""
    names = {spec.name for spec in FACT_SOURCES}
    config = SimConfig(events=min(10_000_000, int(records / SINK_SHARE * 1.5) + 1_000), seed=seed, stores=STORES,
                       warehouses=WAREHOUSES, skus=SKUS, customers=CUSTOMERS, run="bench")
    day = with_ledger(simulate(config)) if ledger else simulate(config)
    ours: Iterator[tuple[TopicSpec, bytes, Event]] = (e for e in day if e[0].name in names)
    wire: list[SinkRecord] = []
    kept: list[Event] = []
    for spec, key, event in islice(ours, records):
        wire.append(SinkRecord(spec, key, encode(event)))
        if len(kept) < keep_events and spec.name in LAG_TOPICS:  # the lag publisher keys by store or order
            kept.append(event)
    if len(wire) < records:
        raise ValueError(f"the simulated day gave only {len(wire)} records on the sink's topics")
    return SinkDay(records=wire, events=kept)


def with_ledger(day: Iterator[tuple[TopicSpec, bytes, Event]]) -> Iterator[tuple[TopicSpec, bytes, Event]]:
    """Each event, then the `inventory.ledger-entries` its stock movements make (the stock
    authority's own domain code, as the worker applies them; no Kafka): an internal topic."""
    book, stocks = OrderBook(), dict[str, SkuStock]()
    for offset, (spec, key, event) in enumerate(day):
        yield spec, key, event
        for movement in (*movements_for(event), *book.movements(event)):
            outcome = apply(stocks.get(movement.sku, SkuStock(sku=movement.sku)), movement, offset, None, offset)
            stocks[movement.sku] = outcome.stock
            for entry in outcome.ledger:
                yield INVENTORY_LEDGER, entry.sku.encode(), entry


def prefill(settings: Settings, day: SinkDay, progress: bool) -> None:
    """Every record onto its prefixed topic, acknowledged, before anything reads them."""
    asyncio.run(_prefill(settings, day, progress))


async def _prefill(settings: Settings, day: SinkDay, progress: bool) -> None:
    # aiokafka: its C record builder and CRC; kafka-python's pure-Python CRC-32C made this the slowest phase
    out = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, acks="all", enable_idempotence=True, linger_ms=20,
                           max_batch_size=256 * 1024, **settings.security.aiokafka_kwargs())
    await out.start()
    try:
        sent = [
            await out.send(r.spec.full_name(settings.topic_prefix), key=r.key, value=r.raw)
            for r in tqdm(day.records, desc="prefill", unit="rec", file=sys.stderr, disable=not progress, mininterval=1)
        ]
        await out.flush()
    finally:
        await out.stop()
    failed = [f.exception() for f in sent if f.exception() is not None]
    if failed:
        raise RuntimeError(f"{len(failed)} records were not acknowledged, the first: {failed[0]!r}")
