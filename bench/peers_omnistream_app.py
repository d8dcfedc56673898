"""The race's workload on Omnistream's stage runtime: the real app (runtime/app.py, its consumer
fixes, settings and RocksDB options) with one batch-native stage (runtime/source.py).

Per batch of a partition: decode all, load each SKU once, apply `step` in log order, write each
changed SKU once (one store write, one changelog record), send one output per input.

Run by bench.peers as `faust -A bench.peers_omnistream_app worker`; topics come from PEERS_*
environment variables, the app id, broker, data dir and web port from OMNI_* ones.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from bench.peers_workload import step
from runtime.app import app, settings
from runtime.batch import Pending
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
    stock[sku] = json.dumps(state, separators=(",", ":")).encode()


async def _batch(tp: TopicPartition, records: list[ConsumerRecord]) -> None:
    states: Pending[bytes, dict[str, Any] | None] = Pending(_load, _store)
    outputs: list[tuple[bytes, bytes]] = []
    for record in records:
        sku = record.key
        state, out = step(states.get(sku), json.loads(record.value))
        states.put(sku, state)
        outputs.append((sku, json.dumps(out, separators=(",", ":")).encode()))
    states.flush()
    send = app.producer.send
    for key, value in outputs:
        await send(topic=SINK, key=key, value=value, partition=None, timestamp=None, headers=None)


source = OwnedSource(app, settings, "peers", SOURCE, stock, _batch)
