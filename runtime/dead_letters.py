"""Sends a record that cannot be processed to its topic's dead-letter topic, as it came; decodes a
stage's batch, dead-lettering what does not decode."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from faust.types import Message

from domain.redaction import notice_of
from ops.metrics import DEAD_LETTERS
from runtime.app import app, settings
from runtime.publish import publish
from streams.codec import DecodeError, decode
from streams.deadletter import DeadLetter, now_utc
from streams.topics import DEAD_LETTER_NOTICES, TopicSpec

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
    dlq_topic = settings.topic_prefix + spec.dlq_name
    sent = await app.producer.send(
        topic=dlq_topic,
        key=letter.key,
        value=letter.raw,
        partition=None,
        timestamp=None,
        headers=letter.headers(),
    )
    at = await sent  # rare: the notice names the dead letter's offset, so wait for it
    await publish(DEAD_LETTER_NOTICES, notice_of(letter, dlq_topic, at.partition, at.offset))
    DEAD_LETTERS.labels(spec.name).inc()
    log.warning(
        "dead-lettered %s[%d]@%d to %s: %s",
        message.topic, message.partition, message.offset, settings.topic_prefix + spec.dlq_name, reason,
    )


async def decode_batch(spec: TopicSpec, records: Sequence[Any], consumer: str, *, dead_letter: bool = True,
                       undecodable: Callable[[], None] | None = None) -> list[tuple[Any, Any]]:
    """A batch's records that decode, with their events, in log order. Each one that does not
    goes to the topic's dead-letter topic with its raw bytes, the reason and its offset (unless
    `dead_letter` is False: another stage dead-letters it already), and `undecodable` is called."""
    decoded: list[tuple[Any, Any]] = []  # (record, the event `streams.codec.decode` gave)
    for record in records:
        try:
            decoded.append((record, decode(spec, record.value, settings.max_event_bytes)))
        except DecodeError as err:
            if dead_letter:
                await send_dead_letter(spec, record, err.reason, consumer)
            if undecodable is not None:
                undecodable()
    return decoded
