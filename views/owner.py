"""Which worker owns a SKU, and sending a request there.

The stock lives on the partition of the raw SKU bytes (how the router keys the SKU log), but
Faust's `table_route` hashes the key as the table serializes it (JSON, quotes included) and
can pick another worker, which then answers from an empty local store. So we route by the
raw SKU ourselves, and forward GETs and POSTs (with their bodies) to the owner.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from faust.web import Request, Response, View

from app import app
from tables.stock import stock_table

FORWARDED = "X-Omnistream-Forwarded"


def owner_of(key: str, table: Any = None) -> str:
    """The worker serving `key` of `table` (the stock table by default), by the raw key bytes."""
    topic = (table or stock_table).changelog_topic.get_topic_name()
    try:
        return str(app.assignor.key_store(topic, key.encode())).rstrip("/")
    except KeyError:  # no assignment known yet: answer here rather than guess
        return str(app.conf.canonical_url).rstrip("/")


def is_mine(key: str, table: Any = None) -> bool:
    return owner_of(key, table) == str(app.conf.canonical_url).rstrip("/")


async def forward(view: View, request: Request, key: str, body: Any = None, table: Any = None) -> Response:
    """The owner's answer to the same request; a forwarded request is never forwarded again."""
    if request.headers.get(FORWARDED):
        return view.json({"error": f"{key} moved during a rebalance; retry"}, status=503)
    url = owner_of(key, table) + request.path
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        method = session.post if body is not None else session.get
        async with method(url, json=body, headers={FORWARDED: "1"}) as response:
            return view.json(await response.json(), status=response.status)
