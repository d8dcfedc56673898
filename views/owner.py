"""Which worker owns a SKU, and sending a request there.

The stock lives on the partition of the raw SKU bytes (how the router keys the SKU log), but
Faust's `table_route` hashes the key as the table serializes it (JSON, quotes included) and
can pick another worker, which then answers from an empty local store. So we route by the
raw SKU ourselves, and forward GETs and POSTs (with their bodies) to the owner.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiokafka.partitioner import murmur2
from faust.types import TP
from faust.web import Request, Response, View

from runtime.app import app, settled
from streams.topics import IDENTITY_REQUESTS, INVENTORY_MOVEMENTS, LOYALTY_COMMANDS, WEB_ORDERS, TopicSpec
from tables.identities import identities_table
from tables.orders import orders_table
from tables.stock import stock_table
from tables.wallets import wallets_table

FORWARDED = "X-Omnistream-Forwarded"
PASSED_HEADERS = ("Authorization", "X-Client")  # the owner checks the caller's token itself


def _source(table: Any) -> TopicSpec:
    """The topic whose partitions place the table's keys (raw key bytes, murmur2)."""
    if table is orders_table:
        return WEB_ORDERS
    if table is wallets_table:
        return LOYALTY_COMMANDS
    if table is identities_table:
        return IDENTITY_REQUESTS
    return INVENTORY_MOVEMENTS


def _me() -> str:
    return str(app.conf.canonical_url).rstrip("/")


def owner_of(key: str, table: Any = None) -> str | None:
    """The worker serving `key` of `table` (the stock table by default), or None if unknown."""
    topic = (stock_table if table is None else table).changelog_topic.get_topic_name()
    try:
        return str(app.assignor.key_store(topic, key.encode())).rstrip("/")
    except KeyError:
        return None


def is_mine(key: str, table: Any = None) -> bool:
    """This worker actively owns the key's partition and has recovered its tables: its local
    store is the truth. Anything else (a standby copy, a rebalance in flight) is not."""
    spec = _source(table)
    partition = (murmur2(key.encode()) & 0x7FFFFFFF) % spec.partitions
    # The table's changelog partition p goes with partition p of its source (co-partitioned);
    # a stage reading its source outside Faust (runtime/source.py) owns exactly these.
    # Never `table or stock_table`: a Faust table's truth value is len(), which counts every key
    # of a RocksDB store (a quarter of the worker's CPU on the wallet HTTP path, py-spy).
    tp = TP((stock_table if table is None else table).changelog_topic.get_topic_name(), partition)
    return app.assignor.is_active(tp) and settled()


async def forward(
    view: View, request: Request, key: str, body: Any = None, table: Any = None, path: str | None = None
) -> Response:
    """The owner's answer to the same request (or to `path`, e.g. a merged wallet's survivor).
    A request is never forwarded again under the same path, so two workers that disagree
    during a rebalance cannot bounce it. While ownership is moving (no owner known, or the
    directory still names this worker) the caller gets a 503 to retry, never an answer from a
    store that is not the owner's."""
    owner = owner_of(key, table)
    path = path or request.rel_url.path
    if (request.headers.get(FORWARDED) and path == request.rel_url.path) or owner is None or owner == _me():
        return view.json(
            {"error": f"{key}: its partition is moving between workers (rebalance or recovery); retry shortly"},
            status=503, headers={"Retry-After": "1"},
        )
    url = owner + path
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            method = session.post if body is not None else session.get
            passed = {h: request.headers[h] for h in PASSED_HEADERS if h in request.headers}
            async with method(url, json=body, headers={FORWARDED: "1", **passed}) as response:
                return view.json(await response.json(), status=response.status)
    except (aiohttp.ClientError, TimeoutError) as err:  # the owner died or restarts: Kafka will move its partitions
        return view.json(
            {"error": f"{key}: its owner {owner} does not answer ({type(err).__name__}); retry shortly"},
            status=503, headers={"Retry-After": "1"},
        )
