"""Hold commands in, answers out, through Kafka: sent as fast as the producer takes them or at a fixed rate.

Each command's send time and its answer's arrival are taken on this process's monotonic clock;
answers are matched by `command_id` (the PlaceHold's event id), so earlier answers on the
topic and redelivered duplicates do not count.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from tqdm import tqdm

from bench.holds import WireCommand
from settings import Settings
from streams.topics import INVENTORY_HOLD_ANSWERS, INVENTORY_HOLD_REQUESTS, INVENTORY_MOVEMENTS, TopicSpec

STALL_TIMEOUT_S = 120.0  # give up when no new answer arrives for this long
PACE_SLACK_S = 0.002  # a paced send this close to its time goes out without a sleep


@dataclass(frozen=True)
class Route:
    """Where commands go, where their answers come back, and the answer's field counted in `answers`."""

    requests: TopicSpec = INVENTORY_HOLD_REQUESTS
    answers: TopicSpec = INVENTORY_HOLD_ANSWERS
    verdict: str = "answer"
    match: str = "command_id"  # the answer's field that names the command (`WireCommand.command_id`)


HOLDS = Route()  # the stock authority's hold path (bench.inventory)


@dataclass
class Traffic:
    """What one exchange saw: when each command went out and when its answer came back."""

    sent_at: dict[str, float] = field(default_factory=dict)
    answered_at: dict[str, float] = field(default_factory=dict)
    sent_wall: dict[str, float] = field(default_factory=dict)  # epoch seconds, to compare with record times
    answer_created: dict[str, float] = field(default_factory=dict)  # the answer record's CreateTime
    routed: dict[str, float] = field(default_factory=dict)  # CreateTime of the router's copy (when traced)
    answers: Counter[str] = field(default_factory=Counter)
    sending_s: float = 0.0

    @property
    def seconds(self) -> float | None:
        """First send to last answer consumed."""
        if not self.sent_at or not self.answered_at:
            return None
        return max(self.answered_at.values()) - min(self.sent_at.values())

    def latencies_s(self) -> list[float]:
        return [at - self.sent_at[cid] for cid, at in self.answered_at.items() if cid in self.sent_at]

    def until_answer_sent_s(self) -> list[float]:
        """Send to the answer's CreateTime (the worker's producer took it): the part spent upstream
        of the answers topic. The rest of each latency is the answer's way back to this consumer."""
        return _between(self.sent_wall, self.answer_created)

    def until_routed_s(self) -> list[float]:
        """Send to the CreateTime of the command's copy on inventory.movements (the router sent it)."""
        return _between(self.sent_wall, self.routed)


def _between(start: dict[str, float], end: dict[str, float]) -> list[float]:
    return [at - start[cid] for cid, at in end.items() if cid in start]


async def exchange(settings: Settings, commands: list[WireCommand], rate: float | None, progress: bool,
                   label: str, trouble: Callable[[], str | None] = lambda: None, trace: bool = False,
                   route: Route = HOLDS) -> Traffic:
    """Send `commands` (at `rate` per second, or flat out) to `route` and wait for every answer.

    With `trace`, the router's copies on inventory.movements are read too, to split the latency
    at the router (costs this process a second topic's records, so not while timing throughput).
    """
    prefix = settings.topic_prefix
    common = {"bootstrap_servers": settings.bootstrap, **settings.security.aiokafka_kwargs()}
    consumer = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, fetch_max_wait_ms=20, **common)
    producer = AIOKafkaProducer(acks="all", enable_idempotence=True, linger_ms=5, **common)
    await consumer.start()
    await producer.start()
    traffic = Traffic()
    bar = tqdm(total=len(commands), desc=label, unit="hold", file=sys.stderr, disable=not progress, mininterval=0.5)
    try:
        traced = (INVENTORY_MOVEMENTS,) if trace else ()
        await _from_end(consumer, [spec.full_name(prefix) for spec in (route.answers, *traced)])
        collect = asyncio.create_task(_collect(consumer, traffic, {c.command_id for c in commands}, bar, trouble,
                                               route))
        started = time.monotonic()
        await _send(producer, route.requests.full_name(prefix), commands, rate, traffic)
        traffic.sending_s = time.monotonic() - started
        await collect
    finally:
        bar.close()
        await producer.stop()
        await consumer.stop()
    return traffic


async def _from_end(consumer: AIOKafkaConsumer, topics: list[str]) -> None:
    """Read `topics` from their current end; positions resolved before the first send."""
    tps = [TopicPartition(topic, p) for topic in topics for p in range(INVENTORY_HOLD_ANSWERS.partitions)]
    consumer.assign(tps)
    await consumer.seek_to_end(*tps)
    for tp in tps:
        await consumer.position(tp)


async def _send(producer: AIOKafkaProducer, topic: str, commands: list[WireCommand], rate: float | None,
                traffic: Traffic) -> None:
    acks = []
    start = time.monotonic()
    for i, command in enumerate(commands):
        if rate:
            delay = start + i / rate - time.monotonic()
            if delay > PACE_SLACK_S:
                await asyncio.sleep(delay)
        traffic.sent_at[command.command_id] = time.monotonic()
        traffic.sent_wall[command.command_id] = time.time()
        acks.append(await producer.send(topic, key=command.key, value=command.value))
    await asyncio.gather(*acks)


async def _collect(consumer: AIOKafkaConsumer, traffic: Traffic, expected: set[str], bar: tqdm,
                   trouble: Callable[[], str | None], route: Route) -> None:
    last_new = time.monotonic()
    while len(traffic.answered_at) < len(expected):
        batches = await consumer.getmany(timeout_ms=200)
        now = time.monotonic()
        before = len(traffic.answered_at)
        for tp, records in batches.items():
            answers = tp.topic.endswith(route.answers.name)
            for record in records:
                body = json.loads(record.value)
                if answers:
                    _note(traffic, expected, body, now, record.timestamp / 1000, route)
                else:  # the router's copy: one command, or a batch of places
                    for command in body.get("holds", [body]):
                        if command.get("event_id") in expected:
                            traffic.routed.setdefault(command["event_id"], record.timestamp / 1000)
        if len(traffic.answered_at) > before:
            bar.update(len(traffic.answered_at) - before)
            last_new = now
        problem = trouble()
        if problem or now - last_new > STALL_TIMEOUT_S:
            raise RuntimeError(f"{len(traffic.answered_at)} of {len(expected)} answers, then "
                               f"{problem or f'none for {STALL_TIMEOUT_S:.0f} s'}")


def _note(traffic: Traffic, expected: set[str], answer: dict[str, object], now: float, created: float,
          route: Route) -> None:
    command_id = str(answer.get(route.match))
    if command_id in expected and command_id not in traffic.answered_at:
        traffic.answered_at[command_id] = now
        traffic.answer_created[command_id] = created
        traffic.answers[str(answer.get(route.verdict))] += 1


def run_exchange(settings: Settings, commands: list[WireCommand], rate: float | None, progress: bool, label: str,
                 trouble: Callable[[], str | None] = lambda: None, trace: bool = False,
                 route: Route = HOLDS) -> Traffic:
    return asyncio.run(exchange(settings, commands, rate, progress, label, trouble, trace, route))
