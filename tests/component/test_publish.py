"""runtime.publish: every event goes to a topic that carries its type, under the key its registry entry builds."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import AsyncMock, MagicMock, patch

import pytest

from streams.codec import encode
from streams.holds import PlaceHold
from streams.topics import INVENTORY_HOLD_REQUESTS, INVENTORY_MOVEMENTS, LOYALTY_COMMANDS

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
PLACE = PlaceHold(event_id="c-1", occurred_at=T0, source_node="web", hold_id="h-1", order_id="or-1",
                  sku="SKU-00001", node="st-001", quantity=4, expires_at=T0)


async def test_an_event_is_keyed_as_its_topic_says_and_sent_to_the_prefixed_topic() -> None:
    from runtime.app import app, settings
    from runtime.publish import publish

    with patch.object(app.producer, "send", new=AsyncMock(return_value=MagicMock())) as send:
        await publish(INVENTORY_MOVEMENTS, PLACE)  # a SKU's log: keyed by SKU
        await publish(INVENTORY_HOLD_REQUESTS, PLACE)  # the request topic: keyed by order
    first, second = (call.kwargs for call in send.await_args_list)
    assert first["topic"] == settings.topic_prefix + "inventory.movements" and first["key"] == b"SKU-00001"
    assert second["topic"] == settings.topic_prefix + "inventory.hold-requests" and second["key"] == b"or-1"
    assert first["value"] == encode(PLACE)


async def test_an_event_its_topic_does_not_carry_is_refused_before_it_is_sent() -> None:
    from runtime.app import app
    from runtime.publish import publish

    with patch.object(app.producer, "send", new=AsyncMock()) as send, pytest.raises(TypeError, match="PlaceHold"):
        await publish(LOYALTY_COMMANDS, PLACE)
    assert send.await_count == 0
