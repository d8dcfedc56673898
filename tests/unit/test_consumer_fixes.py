"""After a rebalance, a partition nobody has committed goes back to its first record (see
runtime/consumer_fixes.py): otherwise records fetched but not delivered before it are lost."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from hypothesis import given
from hypothesis import strategies as st

from runtime.consumer_fixes import seek_to_committed_or_beginning

TOPICS = ["t.inventory.movements", "t.loyalty.commands", "omni-stock-changelog"]
OURS = {"t.inventory.movements", "t.loyalty.commands"}


class Consumer:
    """What the fix calls on aiokafka's consumer, recording the seeks."""

    def __init__(self, committed: dict[TopicPartition, int | None], position: dict[TopicPartition, int]) -> None:
        self.committed = committed
        self.position = dict(position)
        self.to_beginning: list[TopicPartition] = []

    async def seek_to_committed(self) -> dict[TopicPartition, int | None]:
        for tp, offset in self.committed.items():  # aiokafka: `if offset and offset > 0`
            if offset and offset > 0:
                self.position[tp] = offset
        return dict(self.committed)

    async def seek_to_beginning(self, *partitions: TopicPartition) -> bool:
        self.to_beginning += partitions
        for tp in partitions:
            self.position[tp] = 0
        return True


partitions = st.dictionaries(
    st.tuples(st.sampled_from(TOPICS), st.integers(0, 3)).map(lambda t: TopicPartition(*t)),
    st.tuples(st.one_of(st.none(), st.integers(0, 50)), st.integers(0, 60)),
    min_size=1,
)


@given(partitions)
def test_every_own_partition_ends_at_its_committed_offset_or_its_first_record(
    state: dict[TopicPartition, tuple[int | None, int]],
) -> None:
    consumer = Consumer({tp: c for tp, (c, _) in state.items()}, {tp: p for tp, (_, p) in state.items()})
    returned = asyncio.run(seek_to_committed_or_beginning(consumer, OURS))  # type: ignore[arg-type]

    assert returned == consumer.committed  # Faust records these as its committed offsets
    for tp, (committed, fetched_to) in state.items():
        if tp.topic in OURS:
            assert consumer.position[tp] == (committed or 0), tp  # never past an undelivered record
        elif not committed:  # a changelog: Faust's recovery positions it, we leave it alone
            assert consumer.position[tp] == fetched_to
    assert all(tp.topic in OURS for tp in consumer.to_beginning)


def test_a_receipt_fetched_during_a_rebalance_on_a_fresh_partition_is_read_again() -> None:
    """The CI case: offset 0 of inventory.movements[2] fetched (position 1), never delivered,
    no commit yet. Without the fix the position stays at 1, the high watermark."""
    tp = TopicPartition("t.inventory.movements", 2)
    consumer = Consumer({tp: None}, {tp: 1})
    asyncio.run(seek_to_committed_or_beginning(consumer, OURS))  # type: ignore[arg-type]
    assert consumer.position[tp] == 0 and consumer.to_beginning == [tp]


def test_the_worker_app_installs_both_fixes() -> None:
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    import app  # noqa: F401  (installs them on import)

    for method in (AIOKafkaConsumerThread.seek_to_committed, AIOKafkaConsumerThread._fetch_records):
        assert method.__module__ == "runtime.consumer_fixes", method
