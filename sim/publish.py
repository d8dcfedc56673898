"""The simulator's Python API: `generate` a day, or `run` it, to Kafka or dry, and get its report."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from itertools import islice
from typing import Any

from tqdm import tqdm

from settings import Settings
from sim.config import SimConfig
from sim.day import simulate
from sim.fraud import FraudCase
from sim.pacing import TokenBucket
from sim.producer import (
    ProducerFactory,
    PublishError,
    check_topics,
    connect,
    quick_thread_switching,
    unacknowledged_message,
)
from sim.report import Report, ReportBuilder
from sim.state import Emission
from streams.codec import encode

# Events generated, encoded and reported before they are sent (see chunk_size).
CHUNK_EVENTS = 5_000


def generate(config: SimConfig) -> list[Emission]:
    """Every (topic spec, key, event) of the day, in send order."""
    return list(simulate(config))


def run(
    config: SimConfig,
    publish: bool = True,
    *,
    settings: Settings | None = None,
    progress: bool = False,
    create_topics: bool = False,
    producer_factory: ProducerFactory | None = None,
) -> Report:
    """Generate the day, send it unless `publish` is False, and report what was sent.

    `producer_factory` replaces KafkaProducer (tests); it also skips the topic check, which
    needs a real cluster.
    """
    settings = settings or Settings.from_env()
    builder = ReportBuilder(config)
    labels: list[FraudCase] = []
    events = simulate(config, labels, settings.identity_key)
    bar = tqdm(total=config.events, unit="ev", file=sys.stderr, disable=not progress, mininterval=0.5)
    try:
        if publish:
            _publish(events, config, builder, bar, settings, create_topics, producer_factory)
        else:
            for spec, key, event in events:
                builder.add(spec, key, event)
                bar.update()
    finally:
        bar.close()
    return builder.build(labels)


def _publish(
    events: Iterator[Emission],
    config: SimConfig,
    builder: ReportBuilder,
    bar: tqdm,
    settings: Settings,
    create_topics: bool,
    producer_factory: ProducerFactory | None,
) -> None:
    if producer_factory is None:
        check_topics(settings, create=create_topics)
        producer = connect(settings)
    else:
        producer = connect(settings, producer_factory)
    try:
        with quick_thread_switching():
            failures = _send_day(events, config, builder, bar, settings.topic_prefix, producer)
    finally:
        producer.close()
    if failures:
        raise PublishError(unacknowledged_message(failures))


def _send_day(
    events: Iterator[Emission], config: SimConfig, builder: ReportBuilder, bar: tqdm, prefix: str, producer: Any
) -> list[Exception]:
    """Send every event at the configured pace; the failures Kafka reported, if any."""
    failures: list[Exception] = []
    bucket = TokenBucket(config.rate)
    while chunk := _prepared(events, builder, chunk_size(config.rate)):
        for topic, key, raw in chunk:
            if failures:
                producer.flush()
                return failures  # the broker refused one: stop rather than send a day with a hole in it
            bucket.take()
            producer.send(f"{prefix}{topic}", key=key, value=raw).add_errback(failures.append)
            bar.update()
    producer.flush()
    return failures


def chunk_size(rate: float) -> int:
    """Events generated ahead of sending. Generating between sends fights kafka-python's sender
    thread for the GIL (measured: 10,000 events in 13 s one by one, 8 s in one chunk); a paced
    run keeps chunks to 1/20 s of sending, which the token bucket's burst absorbs."""
    return CHUNK_EVENTS if rate <= 0 else max(1, min(CHUNK_EVENTS, int(rate / 20)))


def _prepared(events: Iterator[Emission], builder: ReportBuilder, size: int) -> list[tuple[str, bytes, bytes]]:
    """The next `size` events encoded, and added to the report."""
    chunk = []
    for spec, key, event in islice(events, size):
        raw = encode(event)
        builder.add(spec, key, event, raw)
        chunk.append((spec.name, key, raw))
    return chunk
