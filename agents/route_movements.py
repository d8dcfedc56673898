"""Turns every stock-moving event from tills, the web shop and back offices into SKU-keyed movements."""

from __future__ import annotations

from faust import StreamT

from agents.dead_letters import send_dead_letter
from app import app, channel, settings
from domain.movements import movements_for
from ops.metrics import EVENTS
from streams.codec import DecodeError, decode, encode
from streams.topics import INGEST_TOPICS, INVENTORY_MOVEMENTS, INGEST_PARTITIONS, spec_for

ingest = app.topic(
    *[spec.full_name(settings.topic_prefix) for spec in INGEST_TOPICS],
    key_type=bytes,
    key_serializer="raw",
    value_type=bytes,
    value_serializer="raw",
    partitions=INGEST_PARTITIONS,
)
movements = channel(INVENTORY_MOVEMENTS)


@app.agent(ingest)
async def route_movements(stream: StreamT) -> None:
    """Every ingest record is decoded once here: bad ones go to their dead-letter topic."""
    async for event in stream.events():
        message = event.message
        spec = spec_for(message.topic, settings.topic_prefix)
        try:
            source = decode(spec, message.value, settings.max_event_bytes)
        except DecodeError as err:
            await send_dead_letter(spec, message, err.reason, "route_movements")
            continue
        for movement in movements_for(source):
            await movements.send(key=movement.sku.encode(), value=encode(movement))
        EVENTS.labels(spec.name).inc()
