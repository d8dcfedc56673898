"""Publishing: a steady pace, the right topics and keys, and errors that say what to do."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError

from settings import Settings
from sim.config import SimConfig
from sim.pacing import TokenBucket
from sim.producer import PublishError, missing_topics_message, producer_config
from sim.publish import chunk_size, generate, run
from streams.codec import encode
from streams.topics import INGEST_TOPICS

CONFIG = SimConfig(events=300, seed=2, stores=3, skus=20, customers=20)


class FakeClock:
    """Monotonic time that only moves when the bucket sleeps; oversleeps like a busy machine."""

    def __init__(self, oversleep: float = 1.0) -> None:
        self.now = 100.0
        self.slept = 0
        self.oversleep = oversleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += 1
        self.now += seconds * self.oversleep


class FakeFuture:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def add_errback(self, callback: Any) -> FakeFuture:
        if self.error:
            callback(self.error)
        return self


class FakeProducer:
    """Records what KafkaProducer would have sent."""

    instances: list[FakeProducer] = []

    def __init__(self, fail_after: int | None = None, **config: Any) -> None:
        self.config = config
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.fail_after = fail_after
        self.flushed = self.closed = False
        FakeProducer.instances.append(self)

    def send(self, topic: str, key: bytes, value: bytes) -> FakeFuture:
        self.sent.append((topic, key, value))
        failing = self.fail_after is not None and len(self.sent) > self.fail_after
        return FakeFuture(KafkaTimeoutError("Batch expired") if failing else None)

    def flush(self) -> None:
        self.flushed = True

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def settings() -> Settings:
    return replace(
        Settings.from_env(), topic_prefix="t1.", bootstrap="broker-a:9092,broker-b:9092", producer_linger_s=0.005
    )


def test_an_unlimited_bucket_never_sleeps() -> None:
    time = FakeClock()
    bucket = TokenBucket(0, clock=time.clock, sleep=time.sleep)
    for _ in range(1_000):
        bucket.take()
    assert time.slept == 0


def test_the_bucket_holds_the_rate_after_its_first_burst() -> None:
    time = FakeClock()
    bucket = TokenBucket(200, burst=10, clock=time.clock, sleep=time.sleep)
    for _ in range(1_010):
        bucket.take()
    assert time.now - 100.0 == pytest.approx(1_000 / 200, rel=0.01)


def test_oversleeping_does_not_make_the_run_drift_late() -> None:
    time = FakeClock(oversleep=1.5)
    bucket = TokenBucket(200, burst=10, clock=time.clock, sleep=time.sleep)
    for _ in range(1_010):
        bucket.take()
    assert time.now - 100.0 == pytest.approx(1_000 / 200, rel=0.02)


def test_the_producer_waits_for_every_replica_and_never_duplicates(settings: Settings) -> None:
    config = producer_config(settings)
    assert config["acks"] == "all" and config["enable_idempotence"] is True and config["linger_ms"] == 5
    assert config["bootstrap_servers"] == ["broker-a:9092", "broker-b:9092"]


def test_a_run_sends_every_event_to_its_prefixed_topic_with_its_key(settings: Settings) -> None:
    report = run(CONFIG, settings=settings, producer_factory=FakeProducer)
    producer = FakeProducer.instances[-1]
    expected = [(spec.full_name("t1."), key, encode(event)) for spec, key, event in generate(CONFIG)]
    assert producer.sent == expected
    assert producer.flushed and producer.closed
    assert report == run(CONFIG, publish=False)
    assert {topic for topic, _, _ in producer.sent} <= {spec.full_name("t1.") for spec in INGEST_TOPICS}


def test_a_refused_event_stops_the_run_and_says_it_is_incomplete(settings: Settings) -> None:
    with pytest.raises(PublishError, match="not acknowledged.*Batch expired.*incomplete"):
        run(CONFIG, settings=settings, producer_factory=lambda **c: FakeProducer(fail_after=10, **c))
    assert len(FakeProducer.instances[-1].sent) == 11
    assert FakeProducer.instances[-1].closed


def test_an_unreachable_broker_names_kafka_bootstrap_and_the_launcher(settings: Settings) -> None:
    def unreachable(**config: Any) -> None:
        raise KafkaTimeoutError("Unable to bootstrap from ['broker-a:9092']")

    with pytest.raises(PublishError) as caught:
        run(CONFIG, settings=settings, producer_factory=unreachable)
    message = str(caught.value)
    assert "broker-a:9092,broker-b:9092" in message
    assert "KAFKA_BOOTSTRAP" in message and "python -m broker start" in message and "--dry-run" in message


def test_missing_topics_are_named_with_the_command_that_creates_them(settings: Settings) -> None:
    message = missing_topics_message(list(INGEST_TOPICS[:2]), settings)
    assert "t1.pos.transactions, t1.web.orders" in message
    assert "OMNI_TOPIC_PREFIX=t1. python -m streams.admin" in message


def test_an_unpaced_run_generates_ahead_in_large_chunks_and_a_paced_one_in_a_twentieth_of_a_second() -> None:
    assert chunk_size(0) == 5_000
    assert chunk_size(1_000) == 50
    assert chunk_size(3) == 1
