"""The dashboard's aiohttp app: the page and its assets, and one JSON endpoint per panel under /api/."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dashboard import auth, metrics, panels
from dashboard.snapshot import Snapshot, SourceDownError
from dashboard.sources import Sources
from ops.cluster_watch import ClusterWatch
from settings import Settings

STATIC_DIR = Path(__file__).with_name("static")
T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger("omnistream.dashboard")


class Dashboard:
    """One dashboard process: a snapshot reader on its own thread, HTTP clients of worker and sink."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.snapshot = Snapshot(settings.analytics_path)
        # DuckDB calls block; one thread keeps them off the event loop and the connection single-threaded.
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="duckdb")
        self.stale_after_s = max(30.0, 3 * settings.snapshot_interval_s + 10)
        self._sources: Sources | None = None
        self.cluster = ClusterWatch(settings, metrics.KAFKA)  # its own: the banner shows without a worker

    @property
    def sources(self) -> Sources:
        assert self._sources is not None, "the HTTP session starts with the app"
        return self._sources

    async def lifecycle(self, _: web.Application) -> AsyncIterator[None]:
        self.cluster.start()
        async with aiohttp.ClientSession() as session:
            self._sources = Sources(self.settings, session)
            yield
        self.cluster.stop()
        self.executor.submit(self.snapshot.close).result()
        self.executor.shutdown()

    async def _db(self, read: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, read)

    async def _rows(self, name: str) -> list[dict[str, Any]]:
        return await self._db(lambda: self.snapshot.rows(name))

    def _meta(self) -> dict[str, Any]:
        metrics.SNAPSHOT_AGE.set(self.snapshot.age_s())
        published = datetime.fromtimestamp(self.snapshot.published_at, UTC).isoformat(timespec="seconds")
        return {"snapshot": {"published_at": published, "age_s": round(self.snapshot.age_s(), 1)}}

    async def index(self, _: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def health(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "analytics_snapshot": str(self.settings.analytics_path),
                                  "worker": self.sources.worker_url, "sink": self.sources.sink_url,
                                  "kafka": self.cluster.health()})

    async def cluster_state(self, _: web.Request) -> web.Response:
        """The Kafka cluster as this dashboard's watch last saw it: the page's banner."""
        return web.json_response(self.cluster.health())

    async def stock(self, request: web.Request) -> web.Response:
        sku = request.query.get("sku", "").strip()
        if not sku:
            return web.json_response({"error": "give a SKU: /api/stock?sku=SKU-00001"}, status=400)
        body = await self.sources.stock(sku)
        return web.json_response({**panels.stock(sku, body), "source": self.sources.worker_url})

    async def skus(self, _: web.Request) -> web.Response:
        return web.json_response({**panels.skus(await self._rows("dash_skus")), **self._meta()})

    async def sales_today(self, _: web.Request) -> web.Response:
        return web.json_response({**panels.sales_today(await self._rows("dash_sales_today")), **self._meta()})

    async def points(self, _: web.Request) -> web.Response:
        return web.json_response({**panels.points(await self._rows("dash_points")), **self._meta()})

    async def alerts(self, _: web.Request) -> web.Response:
        rows, counts = await self._db(
            lambda: (self.snapshot.rows("dash_alerts"), self.snapshot.rows("dash_alert_count"))
        )
        return web.json_response({**panels.alerts(rows, counts), **self._meta()})

    async def fulfilment(self, _: web.Request) -> web.Response:
        summary, decisions = await self._db(
            lambda: (self.snapshot.rows("dash_fulfilment_summary"), self.snapshot.rows("dash_fulfilment_decisions"))
        )
        return web.json_response({**panels.fulfilment(summary, decisions), **self._meta()})

    async def pricing(self, _: web.Request) -> web.Response:
        cost, burn, variances = await self._db(lambda: (
            self.snapshot.rows("dash_promotion_cost"), self.snapshot.rows("dash_budget_burn"),
            self.snapshot.rows("dash_pricing_variances"),
        ))
        return web.json_response({**panels.pricing(cost, burn, variances), **self._meta()})

    async def lag(self, _: web.Request) -> web.Response:
        problems: list[str] = []
        health, metrics, (age, status) = await asyncio.gather(
            _or_note(self.sources.sink_health(), problems),
            _or_note(self.sources.sink_metrics(), problems),
            self._snapshot_lag(problems),
        )
        body = panels.lag(age, self.stale_after_s, health, metrics, status, problems)
        return web.json_response(panels.jsonable(body))

    async def _snapshot_lag(self, problems: list[str]) -> tuple[float | None, dict[str, Any] | None]:
        def read() -> tuple[float, dict[str, Any] | None]:
            self.snapshot.connection()  # re-opens a replaced snapshot, so its age is the new file's
            return self.snapshot.age_s(), self._sink_status()

        try:
            return await self._db(read)
        except SourceDownError as down:
            problems.append(str(down))
            return None, None


    def _sink_status(self) -> dict[str, Any] | None:
        """The sink's latest row in `sink_status`; None while the sink writes no such table (or another shape)."""
        if not self.snapshot.has_table("sink_status"):
            return None
        try:
            rows = self.snapshot.rows("dash_sink_status")
        except SourceDownError as err:
            log.warning("sink_status unreadable, using the sink's histogram instead: %s", err)
            return None
        return rows[0] if rows else None


async def _or_note(source: Awaitable[T], problems: list[str]) -> T | None:
    try:
        return await source
    except SourceDownError as down:
        problems.append(str(down))
        return None


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A source that is down answers 503 with a sentence the page shows in place of the panel."""
    try:
        return await handler(request)
    except SourceDownError as down:
        metrics.SOURCE_DOWN.labels(_route(request)).inc()
        return web.json_response({"error": str(down)}, status=503)
    except web.HTTPException:
        raise
    except Exception as err:  # the page shows it; the log keeps the traceback
        log.exception("%s failed", request.path)
        return web.json_response({"error": f"{request.path} failed: {type(err).__name__}: {err}"}, status=500)


@web.middleware
async def counted(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Requests by route and status, and their durations, for /metrics."""
    route, started, status = _route(request), time.perf_counter(), 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as http:
        status = http.status
        raise
    finally:
        metrics.REQUESTS.labels(route, str(status)).inc()
        metrics.REQUEST_SECONDS.labels(route).observe(time.perf_counter() - started)


def _route(request: web.Request) -> str:
    """The route's pattern, not the raw path: /static/<file> must not make a label per file."""
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


async def prometheus(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


def build(settings: Settings) -> web.Application:
    dash = Dashboard(settings)
    app = web.Application(middlewares=[counted, auth.guard(settings.api_clients()), errors_as_json])
    app.cleanup_ctx.append(dash.lifecycle)
    app.router.add_get("/", dash.index)
    app.router.add_get("/health", dash.health)
    app.router.add_get("/metrics", prometheus)
    app.router.add_get("/api/stock", dash.stock)
    app.router.add_get("/api/skus", dash.skus)
    app.router.add_get("/api/sales-today", dash.sales_today)
    app.router.add_get("/api/points", dash.points)
    app.router.add_get("/api/alerts", dash.alerts)
    app.router.add_get("/api/fulfilment", dash.fulfilment)
    app.router.add_get("/api/pricing", dash.pricing)
    app.router.add_get("/api/lag", dash.lag)
    app.router.add_get("/api/cluster", dash.cluster_state)
    app.router.add_static("/static/", STATIC_DIR)
    return app
