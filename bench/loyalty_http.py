"""Redemption holds over HTTP at a fixed offered rate: `POST /wallets/{customer_id}/holds/`, open loop.

Each request starts on its own schedule (`i / rate` after the first), whether or not the
earlier ones were answered, so a slow worker shows up as latency rather than as a lower
offered rate. A request's latency runs from its start to its whole response, on this
process's monotonic clock; it is kept in a `bench.hold_traffic.Traffic` by request id, with
the answer's `status` (or `http <code>` when the worker gave no answer) counted.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from tqdm import tqdm

from bench.hold_traffic import PACE_SLACK_S, STALL_TIMEOUT_S, Traffic

# Open loop needs a connection per request in flight: at 256 the client capped a worker that had
# fallen behind (155 answers/s at 500/s offered, against 277/s with 4,000; the worker half idle).
CONNECTIONS = 4_096


@dataclass
class HttpTraffic(Traffic):
    peak_in_flight: int = 0  # most requests started and not yet answered at once


async def post_holds(base_url: str, requests: list[tuple[str, dict[str, object]]], rate: float,
                     headers: dict[str, str], progress: bool, label: str,
                     trouble: Callable[[], str | None] = lambda: None) -> HttpTraffic:
    traffic = HttpTraffic()
    bar = tqdm(total=len(requests), desc=label, unit="hold", file=sys.stderr, disable=not progress, mininterval=0.5)
    timeout = aiohttp.ClientTimeout(total=STALL_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as session:

        async def one(customer_id: str, body: dict[str, object]) -> None:
            request_id = str(body["request_id"])
            traffic.sent_at[request_id] = time.monotonic()
            traffic.sent_wall[request_id] = time.time()
            in_flight = len(traffic.sent_at) - len(traffic.answered_at)
            traffic.peak_in_flight = max(traffic.peak_in_flight, in_flight)
            async with session.post(f"{base_url}/wallets/{customer_id}/holds/", json=body) as response:
                answer = await response.json(content_type=None)
            traffic.answered_at[request_id] = time.monotonic()
            status = answer.get("status") if isinstance(answer, dict) else None
            traffic.answers[str(status) if response.status in (201, 409) and status else f"http {response.status}"] += 1
            bar.update(1)

        tasks = []
        started = time.monotonic()
        try:
            for i, (customer_id, body) in enumerate(requests):
                delay = started + i / rate - time.monotonic()
                if delay > PACE_SLACK_S:
                    await asyncio.sleep(delay)
                if i % 100 == 0 and (problem := trouble()):
                    raise RuntimeError(f"{i} of {len(requests)} holds sent, then {problem}")
                tasks.append(asyncio.create_task(one(customer_id, body)))
            traffic.sending_s = time.monotonic() - started
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            bar.close()
    return traffic


def run_posts(base_url: str, requests: list[tuple[str, dict[str, object]]], rate: float, headers: dict[str, str],
              progress: bool, label: str, trouble: Callable[[], str | None] = lambda: None) -> HttpTraffic:
    return asyncio.run(post_holds(base_url, requests, rate, headers, progress, label, trouble))
