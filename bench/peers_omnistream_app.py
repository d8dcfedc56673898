"""The race's workload on Omnistream's stage runtime: the real app (runtime/app.py, its consumer
fixes, settings and RocksDB options) with one batch-native stage (runtime/source.py).

Per batch of a partition: decode all, apply `step` in log order to each SKU's latest value,
send one output per input; each changed SKU is written once per checkpoint (one store write,
one changelog record).

With PEERS_EOS=1 (bench.peers' `omnistream_eos` runner) each fetch is one Kafka transaction:
the SKUs' new values go to RocksDB directly and to the changelog through the stage's
transactional producer, with the outputs and the consumed offsets (item 3 of issue 12).

Run by bench.peers as `faust -A bench.peers_omnistream_app worker`; topics come from PEERS_*
environment variables, the app id, broker, data dir and web port from OMNI_* ones.
"""

from __future__ import annotations

import json
import os
from typing import Any, cast

from aiokafka import ConsumerRecord, TopicPartition

from bench.peers_workload import step
from runtime.app import app, settings
from runtime.batch import Pending, write
from runtime.source import OwnedSource
from tables.options import ROCKSDB_OPTIONS

PARTITIONS = int(os.environ.get("PEERS_PARTITIONS", "4"))
SOURCE = os.environ.get("PEERS_INPUT", "peers.in")
SINK = os.environ.get("PEERS_OUTPUT", "peers.out")
# The table's changelog has the source's partition count: Faust assigns partition p of both together.
stock = app.Table("peers-stock", key_type=bytes, value_type=bytes, partitions=PARTITIONS, options=ROCKSDB_OPTIONS)


def _load(sku: bytes) -> dict[str, Any] | None:
    raw = stock.get(sku)
    return None if raw is None else json.loads(raw)


def _store(sku: bytes, state: dict[str, Any] | None) -> None:
    write(stock, sku, json.dumps(state, separators=(",", ":")).encode())


EOS = os.environ.get("PEERS_EOS") == "1"
WORKERS = int(os.environ.get("PEERS_WORKERS", "1"))


def _all_workers_joined() -> bool:
    """With --workers N, read only once the group has settled with N members holding partitions
    (Faust shares where every table partition lives with every member)."""
    distribution = cast(Any, app.assignor).changelog_distribution  # faust's assignor type does not declare it
    return len(distribution) >= min(WORKERS, PARTITIONS)


states: Pending[bytes, dict[str, Any] | None] = Pending(_load, _store)  # written at each checkpoint


async def _batch(tp: TopicPartition, records: list[ConsumerRecord]) -> None:
    if EOS:
        await _batch_in_transaction(tp, records)
        return
    outputs: list[tuple[bytes, bytes]] = []
    for record in records:
        sku = record.key
        state, out = step(states.get(sku), json.loads(record.value))
        states.put(sku, state)
        outputs.append((sku, json.dumps(out, separators=(",", ":")).encode()))
    send = app.producer.send
    for key, value in outputs:
        await send(topic=SINK, key=key, value=value, partition=None, timestamp=None, headers=None)


async def _batch_in_transaction(tp: TopicPartition, records: list[ConsumerRecord]) -> None:
    """The same work; every record sent with the source's transactional producer."""
    producer = source.producer
    assert producer is not None
    decided: dict[bytes, dict[str, Any]] = {}
    outputs: list[tuple[bytes, bytes]] = []
    for record in records:
        sku = record.key
        state, out = step(decided[sku] if sku in decided else _load(sku), json.loads(record.value))
        decided[sku] = state
        outputs.append((sku, json.dumps(out, separators=(",", ":")).encode()))
    changelog = stock.changelog_topic.get_topic_name()
    for sku, state in decided.items():
        value = json.dumps(state, separators=(",", ":")).encode()
        stock.data[sku] = value  # the local store only; the changelog record goes in the transaction
        await producer.send(changelog, key=sku, value=value, partition=tp.partition)
    for key, value in outputs:
        await producer.send(SINK, key=key, value=value)


source = OwnedSource(app, settings, "peers", SOURCE, stock, _batch,
                     transactional_id=f"{settings.app_id}-peers-{os.getpid()}" if EOS else None,
                     also_ready=_all_workers_joined, state=() if EOS else (states,))
