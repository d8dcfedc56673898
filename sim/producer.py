"""The Kafka side of publishing: producer settings, topic checks and errors that say what to do."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError, KafkaTimeoutError

from settings import Settings
from streams.admin import ensure_topics
from streams.topics import INGEST_TOPICS, TopicSpec

ProducerFactory = Callable[..., Any]
# How long a client tries to reach the cluster before we say how to start one.
BOOTSTRAP_TIMEOUT_MS = 10_000
# kafka-python sends from a background thread: every send() that starts a batch wakes it over
# a socket, and each such GIL hand-off waits out the interpreter's 5 ms switch interval.
# A shorter interval while publishing doubles throughput (1,500 -> 3,000 events/s measured).
PUBLISH_SWITCH_INTERVAL_S = 0.0005


class PublishError(RuntimeError):
    """Publishing failed; the message says what to do about it."""


def producer_config(settings: Settings) -> dict[str, Any]:
    """Idempotent and fully acknowledged, so a retry never duplicates an event; lightly batched."""
    return {
        "bootstrap_servers": settings.bootstrap.split(","),
        "client_id": f"{settings.app_id}-simulator",
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": round(settings.producer_linger_s * 1000),  # OMNI_PRODUCER_LINGER_S, 5 ms by default
        "max_block_ms": 15_000,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
        **settings.security.kafka_python_kwargs(),
    }


def connect(settings: Settings, factory: ProducerFactory = KafkaProducer) -> Any:
    """A producer for the configured cluster, or a PublishError saying how to get one."""
    with kafka_errors(settings):
        return factory(**producer_config(settings))


def check_topics(settings: Settings, create: bool = False) -> None:
    """Every ingest topic must exist: the broker does not create topics on first use."""
    with kafka_errors(settings):
        if create:
            ensure_topics(settings)
        admin = KafkaAdminClient(
            bootstrap_servers=settings.bootstrap.split(","),
            client_id=f"{settings.app_id}-simulator",
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            **settings.security.kafka_python_kwargs(),
        )
        try:
            existing = set(admin.list_topics())
        finally:
            admin.close()
    missing = [spec for spec in INGEST_TOPICS if spec.full_name(settings.topic_prefix) not in existing]
    if missing:
        raise PublishError(missing_topics_message(missing, settings))


def missing_topics_message(missing: list[TopicSpec], settings: Settings) -> str:
    names = ", ".join(spec.full_name(settings.topic_prefix) for spec in missing)
    env = f"OMNI_TOPIC_PREFIX={settings.topic_prefix} " if settings.topic_prefix else ""
    return (
        f"topics missing on {settings.bootstrap}: {names}. Create them with `{env}python -m streams.admin` "
        "or pass --create-topics, with the same OMNI_TOPIC_PREFIX as this run."
    )


def unacknowledged_message(failures: list[Exception]) -> str:
    return (
        f"{len(failures)} events were not acknowledged by Kafka, the first because: {failures[0]!r}. "
        "The run is incomplete: fix the cause, then publish again to fresh topics (a new OMNI_TOPIC_PREFIX)."
    )


@contextmanager
def kafka_errors(settings: Settings) -> Iterator[None]:
    """Turns client errors into a PublishError naming the settings to check."""
    try:
        yield
    except KafkaTimeoutError as exc:
        if "bootstrap" not in str(exc):
            raise PublishError(f"Kafka at {settings.bootstrap} timed out: {exc}") from None
        raise PublishError(
            f"no Kafka broker answers at {settings.bootstrap}. Start the local one with "
            "`python -m broker start`, or point KAFKA_BOOTSTRAP at a running cluster (with "
            "KAFKA_SECURITY_PROTOCOL and KAFKA_SASL_* if it is secured). `python -m sim --dry-run` needs no Kafka."
        ) from None
    except KafkaError as exc:
        raise PublishError(
            f"Kafka at {settings.bootstrap} failed: {exc!r}. Check KAFKA_BOOTSTRAP and the "
            "KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_* / KAFKA_SSL_* settings."
        ) from None


@contextmanager
def quick_thread_switching() -> Iterator[None]:
    """A short GIL switch interval while publishing (see PUBLISH_SWITCH_INTERVAL_S), then the old one."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, PUBLISH_SWITCH_INTERVAL_S))
    try:
        yield
    finally:
        sys.setswitchinterval(before)
