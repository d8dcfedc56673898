"""Sends a record that cannot be processed to its topic's dead-letter topic, as it came."""

from __future__ import annotations

import logging

from faust.types import Message

from ops.metrics import DEAD_LETTERS
from runtime.app import app, settings
from streams.deadletter import DeadLetter, now_utc
from streams.topics import TopicSpec

log = logging.getLogger("omnistream.dlq")


async def send_dead_letter(spec: TopicSpec, message: Message, reason: str, consumer: str) -> None:
    letter = DeadLetter(
        source_topic=message.topic,
        source_partition=message.partition,
        source_offset=message.offset,
        key=message.key,
        raw=message.value,
        reason=reason,
        consumer=consumer,
        failed_at=now_utc(),
    )
    await app.producer.send(
        topic=settings.topic_prefix + spec.dlq_name,
        key=letter.key,
        value=letter.raw,
        partition=None,
        timestamp=None,
        headers=letter.headers(),
    )
    DEAD_LETTERS.labels(spec.name).inc()
    log.warning(
        "dead-lettered %s[%d]@%d to %s: %s",
        message.topic, message.partition, message.offset, settings.topic_prefix + spec.dlq_name, reason,
    )
