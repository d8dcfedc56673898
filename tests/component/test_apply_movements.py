"""apply_movements' batch handler on Faust's tables (memory store): state, ledger output and idempotency.

Each `feed` is one batch of one partition, as the stage's source hands it over."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, MagicMock, patch

import pytest

from streams.codec import encode
from streams.inventory import StockMovement
from streams.topics import INVENTORY_AVAILABILITY, INVENTORY_HOLD_ANSWERS, INVENTORY_LEDGER, TopicSpec

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def movement(event_id: str, kind: str, quantity: int) -> StockMovement:
    return StockMovement(
        event_id=event_id, occurred_at=T0, source_node="st-001", sku="SKU-00001", node="st-001",
        kind=kind, quantity=quantity, cause_event_id=event_id.split(":")[0], cause_type="test",  # type: ignore[arg-type]
    )


@pytest.fixture
def agent_env():  # type: ignore[no-untyped-def]
    from agents import apply_movements as module
    from runtime.app import app
    from tables.applied import applied_state, applied_table
    from tables.stock import forget_cached, stock_state, stock_table

    assert app.conf.store.scheme == "memory", "component tests need OMNI_STORE=memory://"
    app.flow_control.resume()
    stock_table.data.clear()
    applied_table.data.clear()
    forget_cached()  # the decoded values of the cleared table
    stock_state.forget()  # and the values decided since the last checkpoint
    applied_state.forget()
    with patch.object(module, "publish", new=AsyncMock(return_value=MagicMock())) as published:
        yield module, published


def sent_to(published: AsyncMock, spec: TopicSpec) -> list[Any]:
    """The events the stage published to `spec`'s topic, in order."""
    return [call.args[1] for call in published.await_args_list if call.args[0] is spec]


_offsets = itertools.count()


async def feed(module, *values: bytes) -> None:  # type: ignore[no-untyped-def]
    """One batch of records of partition 0, keyed by the SKU, at the next offsets."""
    from aiokafka import TopicPartition

    from runtime.source import in_partition

    tp = TopicPartition(module.source.topics[0], 0)
    records = [SimpleNamespace(topic=tp.topic, partition=0, offset=next(_offsets), key=b"SKU-00001", value=value,
                               timestamp=0) for value in values]
    with in_partition(tp.topic, 0):
        await module.apply_batch(tp, records)


async def test_movements_change_the_stock_table_and_each_emits_one_ledger_entry(agent_env) -> None:  # type: ignore[no-untyped-def]
    module, sent = agent_env
    from tables.stock import get_stock

    await feed(module, encode(movement("rcv-1:0", "receipt", 10)), encode(movement("sale-1:0", "sale", -3)))
    assert get_stock("SKU-00001").position("st-001").on_hand == 7
    assert len(sent_to(sent, INVENTORY_LEDGER)) == 2


async def test_the_same_movement_delivered_twice_is_applied_once(agent_env) -> None:  # type: ignore[no-untyped-def]
    module, sent = agent_env
    from tables.stock import get_stock

    twice = encode(movement("sale-9:0", "sale", -2))
    await feed(module, twice, twice)  # within one batch
    await feed(module, twice)  # and in a later one
    assert get_stock("SKU-00001").position("st-001").on_hand == -2
    assert len(sent_to(sent, INVENTORY_LEDGER)) == 1


async def test_a_record_that_is_not_a_movement_goes_to_the_dead_letter_topic(agent_env) -> None:  # type: ignore[no-untyped-def]
    module, _ = agent_env
    from runtime import dead_letters

    with patch.object(dead_letters, "send_dead_letter", new=AsyncMock()) as dead:
        await feed(module, b"{broken")
    assert dead.await_count == 1
    assert "invalid JSON" in dead.await_args.args[2]


async def test_a_hold_on_the_sku_log_is_answered_and_holds_the_units(agent_env) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from streams.holds import PlaceHold
    from tables.stock import get_stock

    module, published = agent_env
    place = PlaceHold(event_id="c-1", occurred_at=T0, source_node="web", hold_id="h-1", order_id="or-1",
                      sku="SKU-00001", node="st-001", quantity=4, expires_at=T0 + timedelta(minutes=10))
    await feed(module, encode(movement("rcv-2:0", "receipt", 5)))
    await feed(module, encode(place))
    position = get_stock("SKU-00001").position("st-001")
    assert (position.on_hand, position.held, position.atp) == (5, 4, 1)
    answers = [encode(answer) for answer in sent_to(published, INVENTORY_HOLD_ANSWERS)]
    assert len(answers) == 1
    assert b'"answer":"granted"' in answers[0] and b'"atp_after":1' in answers[0]
    keys = {INVENTORY_AVAILABILITY.key_for(record) for record in sent_to(published, INVENTORY_AVAILABILITY)}
    assert keys == {b"SKU-00001@st-001", b"SKU-00001"}  # the position and the network figure


async def test_the_table_is_written_at_the_checkpoint_once_per_sku_and_readers_see_decisions_before(agent_env) -> None:  # type: ignore[no-untyped-def]
    module, _ = agent_env
    from tables.stock import get_stock, stock_state, stock_table

    await feed(module, *(encode(movement(f"rcv-{i}:0", "receipt", 1)) for i in range(5)))
    assert get_stock("SKU-00001").position("st-001").on_hand == 5  # a reader sees the decision
    assert stock_table.data.get("SKU-00001") is None  # the table has not been written yet
    held = stock_state.flush()
    assert len(held) == 1  # one SKU changed by five records: one write
    assert b'"on_hand":5' in stock_table.data.get("SKU-00001")
    assert get_stock("SKU-00001").position("st-001").on_hand == 5
    # and one changelog record, as Faust's table would write it, for the checkpoint to send
    record = held[0]
    assert (record.topic, record.partition) == (stock_table.changelog_topic.get_topic_name(), 0)
    # the key JSON-quoted, as Faust's own table writes it (../shared/FAUST_NOTES.md): recovery reads both alike
    assert (record.key, record.value) == (b'"SKU-00001"', stock_table.data.get("SKU-00001"))


async def test_the_checkpoint_sends_each_held_record_and_keeps_the_changelog_offset_faust_recovers_from(
        agent_env) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    from types import SimpleNamespace

    from aiokafka import TopicPartition

    from runtime.batch import send
    from tables.stock import stock_state, stock_table

    module, _ = agent_env
    await feed(module, encode(movement("rcv-x:0", "receipt", 2)))
    held = stock_state.flush()
    changelog = TopicPartition(stock_table.changelog_topic.get_topic_name(), 0)
    acked = asyncio.get_running_loop().create_future()
    acked.set_result(SimpleNamespace(partition=0, topic_partition=changelog, offset=41))
    producer = SimpleNamespace(send=AsyncMock(return_value=acked))
    with patch.object(stock_table.data, "set_persisted_offset") as persisted:
        acknowledged = await send(held, producer)
        await acknowledged()
    sent = producer.send.await_args.kwargs
    assert (sent["topic"], sent["partition"], sent["key"]) == (changelog.topic, 0, b'"SKU-00001"')
    persisted.assert_called_once_with(changelog, 41)
