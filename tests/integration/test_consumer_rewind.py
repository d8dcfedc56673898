"""Against the real broker: a group member that fetched a record, never delivered nor committed
it, is put back on it by the rewind Faust runs after a rebalance (runtime/consumer_fixes.py).
Plain aiokafka's `seek_to_committed` leaves it past the record, which is how CI lost a receipt."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from runtime.consumer_fixes import seek_to_committed_or_beginning
from tests.integration.kafka_io import producer

pytestmark = pytest.mark.integration


async def _fetched_but_not_committed(bootstrap: str, topic: str, rewind: bool) -> list[int]:
    """Consume offset 0 (position moves to 1), commit nothing, rewind as Faust does, read again."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"g-{uuid.uuid4().hex[:8]}",
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        first = await consumer.getmany(timeout_ms=15_000)
        assert [r.offset for r in first.get(tp, [])] == [0], first  # fetched: the position is now 1
        assert await consumer.position(tp) == 1
        if rewind:
            await seek_to_committed_or_beginning(consumer, {topic})
        else:
            await consumer.seek_to_committed()
        again = await consumer.getmany(timeout_ms=3_000)
        return [r.offset for r in again.get(tp, [])]
    finally:
        await consumer.stop()


def test_the_rewind_reads_an_uncommitted_fetched_record_again_where_aiokafka_alone_does_not(
    kafka_bootstrap: str,
) -> None:
    topic = f"rewind-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    # one copy: with min.insync.replicas 1, as a cluster's broker default (2) would refuse acks=all writes
    admin.create_topics([NewTopic(name=topic, num_partitions=1, replication_factor=1,
                                  topic_configs={"min.insync.replicas": "1"})])
    admin.close()
    p = producer(kafka_bootstrap)
    p.send(topic, key=b"receipt", value=b"offset 0", partition=0).get(timeout=30)
    p.close()
    assert asyncio.run(_fetched_but_not_committed(kafka_bootstrap, topic, rewind=False)) == []
    assert asyncio.run(_fetched_but_not_committed(kafka_bootstrap, topic, rewind=True)) == [0]
