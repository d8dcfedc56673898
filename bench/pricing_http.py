"""bench.pricing's worker phases: baskets priced over HTTP at a fixed offered rate, and checkouts holding budget.

`http`: one worker (its own topics, `bench.stack`) reads the synthetic book from the broker;
`POST /baskets/price/` is offered `--rate` baskets/s open loop (each request on its own schedule,
answered or not), latency from start to whole response. Baseline, same run and rate:
`GET /pricing/book/` (the worker's HTTP floor, no pricing). The worker's business clock is shifted
to the synthetic book's day (`OMNI_CLOCK_SHIFT`) so its promotions are in force.

Then the same worker's stock authority granting budget holds: checkouts (`"hold": true`) of the
baskets that draw on a budget or coupon account, closed loop, 128 at a time: budget holds
answered per second (each checkout places one hold per account it draws on, each a round trip
through the SKU log and the authority; the accounts fill up, so refusals count too).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bench.holds import percentile
from bench.pricing_book import T0, Workload, book_events
from bench.stack import Stack
from broker import ensure_broker
from domain.pricing.price import price
from ops.processes import caller_headers, get_json
from sim.producer import connect
from streams.codec import encode
from streams.topics import PRICING_CHANGES

QUICK_REQUESTS, FULL_REQUESTS = 3_000, 15_000
CHECKOUT_CONCURRENCY = 128


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def http(args: argparse.Namespace, work: Workload) -> dict[str, object]:
    stack = Stack.create(ensure_broker().bootstrap)
    stack.env["OMNI_CLOCK_SHIFT"] = f"{int((T0 - datetime.now(UTC)).total_seconds())}s"
    try:
        stack.start()
        _publish_book(stack)
        n = QUICK_REQUESTS if args.quick else FULL_REQUESTS
        bodies = [_body(basket, context) for basket, context in work.baskets[:n]]
        progress(f"http: {n} baskets at {args.rate:g}/s to {stack.worker_url}/baskets/price/")
        priced = asyncio.run(_offer(stack.worker_url, bodies, args.rate, "POST"))
        floor = asyncio.run(_offer(stack.worker_url, bodies, args.rate, "GET"))
        # checkouts that draw on a budget or coupon account (priced here first with the same function)
        budgeted = [_body(b, c) for b, c in work.baskets if price(b, c, work.book).needs]
        progress(f"http: {len(budgeted[:n])} checkouts holding budget, {CHECKOUT_CONCURRENCY} at a time")
        held = asyncio.run(_checkouts(stack.worker_url, budgeted[:n]))
    finally:
        problems = stack.close()
        for problem in problems:
            progress(f"http: {problem}")
    result = {
        "offered_per_s": args.rate, "price_p50_ms": priced["p50"], "price_p99_ms": priced["p99"],
        "http_answered_per_s": priced["per_s"], "http_errors": priced["errors"],
        "http_baseline": {"name": "GET /pricing/book/ at the same rate", "p50_ms": floor["p50"],
                          "p99_ms": floor["p99"]},
    } | held
    progress(f"http: p50 {priced['p50']} ms, p99 {priced['p99']} ms at {args.rate:g}/s "
             f"(floor p99 {floor['p99']} ms); budget holds {held['budget_holds_per_s']}/s")
    return result


def _publish_book(stack: Stack) -> None:
    events = book_events(random.Random(7))
    producer = connect(stack.settings)
    topic = PRICING_CHANGES.full_name(stack.settings.topic_prefix)
    for event in events:
        producer.send(topic, key=PRICING_CHANGES.key_for(event), value=encode(event))
    producer.flush()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status, body = get_json(f"{stack.worker_url}/pricing/book/")
        if status == 200 and body and body["caught_up"] and body["promotions"] >= 200:
            progress(f"http: the worker's book is at version {body['version']}")
            return
        time.sleep(0.5)
    raise TimeoutError("the worker's price book did not reach the 200 promotions in 180 s")


def _body(basket: Any, context: Any) -> dict[str, Any]:
    return {"basket_id": basket.basket_id, "channel": context.channel, "node": context.node,
            "tier": context.tier, "customer_id": context.customer_id, "coupon_codes": list(basket.coupon_codes),
            "shipping_cents": basket.shipping_cents,
            "lines": [{"line_no": x.line_no, "sku": x.sku, "quantity": x.quantity} for x in basket.lines]}


async def _offer(url: str, bodies: list[dict[str, Any]], rate: float, method: str) -> dict[str, Any]:
    took: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=4_096)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60),
                                     headers=caller_headers()) as session:

        async def one(body: dict[str, Any]) -> None:
            nonlocal errors
            started = time.monotonic()
            call = session.post(f"{url}/baskets/price/", json=body) if method == "POST" else \
                session.get(f"{url}/pricing/book/")
            async with call as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            took.append((time.monotonic() - started) * 1000)

        tasks, started = [], time.monotonic()
        for i, body in enumerate(bodies):
            delay = started + i / rate - time.monotonic()
            if delay > 0.001:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(body)))
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
    return {"p50": _ms(percentile(took, 50)), "p99": _ms(percentile(took, 99)),
            "per_s": round(len(took) / elapsed, 1), "errors": errors}


async def _checkouts(url: str, bodies: list[dict[str, Any]]) -> dict[str, object]:
    holds = granted = 0
    queue = list(enumerate(bodies))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60), headers=caller_headers()) as session:

        async def worker() -> None:
            nonlocal holds, granted
            while queue:
                n, body = queue.pop()
                async with session.post(f"{url}/baskets/price/",
                                        json={**body, "basket_id": f"hold-{n}", "hold": True}) as response:
                    answer = await response.json(content_type=None)
                for hold in answer.get("holds", []) if isinstance(answer, dict) else []:
                    holds += 1
                    granted += hold["answer"] == "granted"

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CHECKOUT_CONCURRENCY)))
        elapsed = time.monotonic() - started
    return {"checkouts": len(bodies), "budget_holds": holds, "budget_holds_granted": granted,
            "budget_holds_per_s": round(holds / elapsed, 1), "checkouts_per_s": round(len(bodies) / elapsed, 1)}


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
