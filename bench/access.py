"""`python -m bench.access [--quick]`: what the HTTP guard costs a request, pure and over HTTP.

Pure: `domain.access.authorize` plus a rate bucket's `take`, the work the guard adds to every
request (a SHA-256 of the token and a constant-time compare per stored digest); baseline, same
run: a dict lookup of the route's rule, the least any policy check can do.

HTTP: one aiohttp server in this process, a route that answers `{}` at once, called by N
concurrent clients over keep-alive connections, first behind the worker's guard
(`views.access.guard`, audit publishing replaced by a counter, so no broker is needed), then
without it (the baseline). Both run on the same loop and machine: the difference is the guard.
The last stdout line is the JSON result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any
from unittest.mock import patch

from bench.holds import percentile
from domain.access import POLICY, Bucket, authorize, clients_from_env

QUICK_CHECKS, FULL_CHECKS = 50_000, 300_000
QUICK_REQUESTS, FULL_REQUESTS = 4_000, 20_000
CONCURRENCY = 16
CLIENTS = clients_from_env(",".join(f"c{n}:token-{n}:web" for n in range(50)))
HEADERS = {"X-Client": "c7", "Authorization": "Bearer token-7"}


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pure(checks: int) -> dict[str, object]:
    bucket = Bucket(1e9, 1e9)
    started = time.perf_counter()
    for _ in range(checks):
        verdict = authorize(CLIENTS, "POST", "/holds/", "c7", "token-7")
        bucket.take(time.monotonic())
    guarded = time.perf_counter() - started
    assert verdict.allowed
    started = time.perf_counter()
    for _ in range(checks):
        rule = POLICY.get(("POST", "/holds/"))
    baseline = time.perf_counter() - started
    assert rule is not None
    return {"pure_checks_per_s": round(checks / guarded), "pure_us_per_check": round(guarded / checks * 1e6, 2),
            "baseline_lookups_per_s": round(checks / baseline)}


async def _serve(guarded: bool, requests: int) -> dict[str, float]:
    import aiohttp
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from views import access

    async def answer(request: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application(middlewares=[access.guard] if guarded else [])
    app.router.add_route("GET", "/stock/{sku}/", answer)  # a guarded route with no rate limit or audit
    server = TestServer(app)
    await server.start_server()
    url = str(server.make_url("/stock/SKU-00001/"))
    latencies: list[float] = []
    per_client = requests // CONCURRENCY

    async def client(http: aiohttp.ClientSession) -> None:
        for _ in range(per_client):
            t = time.perf_counter()
            async with http.get(url, headers=HEADERS) as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append(time.perf_counter() - t)

    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http:
            await asyncio.gather(*(client(http) for _ in range(2)))  # warm the connections
            latencies.clear()
            started, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(client(http) for _ in range(CONCURRENCY)))
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await server.close()
    latencies.sort()
    p50, p99 = percentile(latencies, 50) or 0.0, percentile(latencies, 99) or 0.0
    return {"requests_per_s": round(len(latencies) / wall), "p50_ms": round(p50 * 1000, 3),
            "p99_ms": round(p99 * 1000, 3),
            "cpu_us_per_request": round(cpu / len(latencies) * 1e6)}


def http(requests: int) -> dict[str, object]:
    os.environ.setdefault("OMNI_STORE", "memory://")  # the guard imports the Faust app: no RocksDB dir for a bench
    from views import access

    audited: list[Any] = []
    with patch.object(access, "_clients", CLIENTS), patch.object(access, "_audit", lambda *a: audited.append(a)):
        guarded = asyncio.run(_serve(True, requests))
        bare = asyncio.run(_serve(False, requests))
    return {"http_guarded": guarded, "http_baseline_no_guard": bare,
            "guard_cpu_us_per_request": guarded["cpu_us_per_request"] - bare["cpu_us_per_request"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    args = parser.parse_args()
    result: dict[str, object] = {"bench": "access", "quick": args.quick}
    progress("pure: authorize + rate bucket vs a policy lookup ...")
    result.update(pure(QUICK_CHECKS if args.quick else FULL_CHECKS))
    progress(f"http: {CONCURRENCY} clients, with and without the guard ...")
    result.update(http(QUICK_REQUESTS if args.quick else FULL_REQUESTS))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
