"""The race's workload on faust-streaming the way Omnistream's stages run today: per record, one
table read, one table write (one changelog record) and one send.

Run by bench.peers as `faust -A bench.peers_faust_app worker`; topics, app id and data dir come
from PEERS_* environment variables.
"""

from __future__ import annotations

import json
import os

import faust

from bench.peers_workload import step

app = faust.App(
    os.environ.get("PEERS_APP_ID", "peers-faust"),
    broker=f"kafka://{os.environ.get('PEERS_BOOTSTRAP', '127.0.0.1:9092')}",
    store="rocksdb://",
    datadir=os.environ.get("PEERS_DATA_DIR", ".run/peers-faust"),
    key_serializer="raw",
    value_serializer="raw",
    topic_partitions=int(os.environ.get("PEERS_PARTITIONS", "4")),
    topic_replication_factor=1,
    consumer_auto_offset_reset="earliest",
    producer_linger=0.005,
    web_port=int(os.environ.get("PEERS_WEB_PORT", "6099")),
    web_host="127.0.0.1",
)
source = app.topic(os.environ.get("PEERS_INPUT", "peers.in"), key_type=bytes, value_type=bytes)
sink = app.topic(os.environ.get("PEERS_OUTPUT", "peers.out"), key_type=bytes, value_type=bytes)
stock = app.Table("stock", key_type=bytes, value_type=bytes)


@app.agent(source)
async def apply_movements(stream: faust.StreamT) -> None:
    async for event in stream.events():
        raw = stock.get(event.key)
        state, out = step(None if raw is None else json.loads(raw), json.loads(event.value))
        stock[event.key] = json.dumps(state, separators=(",", ":")).encode()
        await sink.send(key=event.key, value=json.dumps(out, separators=(",", ":")).encode())
