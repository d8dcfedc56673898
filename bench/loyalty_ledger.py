"""How far the wallets got, read from Kafka: the ledger's end offsets (one PointsPosted per command that
posted) and its entries, the answers' and the wallets changelog's end offsets. Nothing here asks the worker."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition
from tqdm import tqdm

from settings import Settings
from streams.topics import LOYALTY_ANSWERS, LOYALTY_COMMANDS, LOYALTY_LEDGER

POLL_S = 0.1
READ_TIMEOUT_S = 120.0


class Offsets:
    """End offsets of one topic (all partitions), and the records between two sets of them."""

    def __init__(self, settings: Settings, topic: str, partitions: int) -> None:
        self.consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap.split(","), enable_auto_commit=False,
                                      **settings.security.kafka_python_kwargs())
        self.partitions = [TopicPartition(topic, p) for p in range(partitions)]

    def ends(self) -> dict[TopicPartition, int]:
        return dict(self.consumer.end_offsets(self.partitions))

    def total(self) -> int:
        return sum(self.ends().values())

    def wait_for(self, target: int, timeout_s: float, trouble: Callable[[], str | None], progress: bool,
                 label: str, start: int = 0) -> float:
        """Until the end offsets add up to `target`; returns the monotonic time it was seen."""
        t0 = time.monotonic()
        bar = tqdm(total=target - start, desc=label, unit="rec", file=sys.stderr, disable=not progress,
                   mininterval=0.5)
        try:
            while (total := self.total()) < target:
                bar.update(total - start - bar.n)
                if time.monotonic() - t0 > timeout_s:
                    raise TimeoutError(f"{label}: {total - start} of {target - start} after {timeout_s:.0f} s")
                if problem := trouble():
                    raise RuntimeError(f"{label}: {total - start} of {target - start}, then {problem}")
                time.sleep(POLL_S)
            bar.update(total - start - bar.n)
            return time.monotonic()
        finally:
            bar.close()

    def records(self, start: dict[TopicPartition, int], end: dict[TopicPartition, int]) -> list[bytes]:
        """The values of every record from `start` up to `end`, partition by partition."""
        values: list[bytes] = []
        wanted = [tp for tp in self.partitions if end[tp] > start.get(tp, 0)]
        self.consumer.assign(wanted)
        for tp in wanted:
            self.consumer.seek(tp, start.get(tp, 0))
        deadline = time.monotonic() + READ_TIMEOUT_S
        while any(self.consumer.position(tp) < end[tp] for tp in wanted):
            if time.monotonic() > deadline:
                raise TimeoutError(f"read {len(values)} records in {READ_TIMEOUT_S:.0f} s, not all")
            for tp, batch in self.consumer.poll(timeout_ms=500).items():
                values += [r.value for r in batch if r.offset < end[tp]]
        return values

    def close(self) -> None:
        self.consumer.close()


def ledger(settings: Settings) -> Offsets:
    return Offsets(settings, LOYALTY_LEDGER.full_name(settings.topic_prefix), LOYALTY_LEDGER.partitions)


def answers(settings: Settings) -> Offsets:
    """loyalty.answers: one PointsAnswered per hold, capture or void the wallets applied."""
    return Offsets(settings, LOYALTY_ANSWERS.full_name(settings.topic_prefix), LOYALTY_ANSWERS.partitions)


def wallets_changelog(settings: Settings) -> Offsets:
    """The wallets table's changelog: Faust names it `<app id>-<table>-changelog`."""
    return Offsets(settings, f"{settings.app_id}-wallets-changelog", LOYALTY_COMMANDS.partitions)


def entries_in(postings: list[bytes]) -> int:
    """Ledger entries in PointsPosted records (each carries a list `entries`)."""
    return sum(len(json.loads(raw)["entries"]) for raw in postings)
