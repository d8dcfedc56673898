"""The one way the worker publishes an event: to a registered topic, under the key its registry entry builds.

`await publish(spec, event)` checks that the topic carries the event's type, encodes it once
(`streams.codec`), keys it with `spec.key_for(event)` and hands it to the producer; the
returned future resolves when Kafka acknowledged the record. Stages on their own consumer
(`agents/route_movements.py`) pass their aiokafka producer as `via`; everything else uses the
Faust app's producer, so its records are flushed at each checkpoint before offsets commit.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aiokafka import AIOKafkaProducer

from runtime.app import app, settings
from streams.base import Event
from streams.codec import encode
from streams.topics import TopicSpec


async def publish(
    spec: TopicSpec, event: Event, *, partition: int | None = None, via: AIOKafkaProducer | None = None
) -> asyncio.Future[Any]:
    """Send `event` to `spec`'s topic; the future resolves with Kafka's acknowledgement."""
    if not isinstance(event, spec.events):
        raise TypeError(f"{spec.name} does not carry {type(event).__name__} (it carries "
                        f"{', '.join(t.__name__ for t in spec.events)})")
    topic, key, value = spec.full_name(settings.topic_prefix), spec.key_for(event), encode(event)
    if via is not None:
        return await via.send(topic, value=value, key=key, partition=partition)
    sent = await app.producer.send(topic=topic, key=key, value=value, partition=partition, timestamp=None,
                                   headers=None)
    return cast("asyncio.Future[Any]", sent)  # faust declares an Awaitable; it is aiokafka's future
