"""The worker's HTTP guard: who may call which route, how often, and the audit of what they did.

One aiohttp middleware in front of every route the app registers (installed at import; app.py
imports this module before any view):

- the route's rule comes from `domain.access.POLICY`; a route without one is refused to all;
- 401 without a valid client token, 403 outside the route's scopes, both JSON saying which;
- rate-limited routes spend the client's token bucket on this worker: 429 with Retry-After;
- every error is JSON (`{"error": ...}`), including the framework's own 404, 405 and 413, and
  an unexpected failure is one logged line with an error id, never a traceback in the answer;
- every request to a route that changes state, and every request refused by the guard or a
  view (401, 403, 429), is published as an
  `audit.http_request` event (`audit.http-requests`, projected into DuckDB by the sink).

Views read the caller with `caller(request)`; a till must act for its own store (`acts_for`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from aiohttp import web

from domain.access import Bucket, Client, Clients, authorize, node_refusal
from domain.redaction import mask_text
from ops.metrics import AUDITS_DROPPED
from runtime.app import app, clock, settings
from runtime.publish import publish
from streams.audit import HttpRequestAudited
from streams.topics import AUDIT_REQUESTS

log = logging.getLogger("omnistream.access")

MAX_PENDING_AUDITS = 10_000
for _name, _value in (("OMNI_HTTP_RATE_PER_S", settings.http_rate_per_s),
                      ("OMNI_HTTP_RATE_BURST", settings.http_rate_burst)):
    if not (math.isfinite(_value) and _value > 0):
        raise ValueError(f"{_name}={_value}: give a positive number of requests")
_clients: Clients = settings.api_clients()  # a malformed clients file stops the worker at start
_refusals = Bucket(rate=2.0, burst=20.0)  # refusals logged: at most 20 at once, then 2 a second
_buckets: dict[str, Bucket] = {}
_pending: set[asyncio.Task[Any]] = set()
if not len(_clients):
    log.warning("no HTTP API clients configured (OMNI_CLIENTS_FILE, OMNI_CLIENT_TOKENS): every route but "
                "/health, /metrics and /openapi.json answers 401")


def caller(request: web.Request) -> Client | None:
    """The authenticated client of this request (None on an open route)."""
    return request.get("omni.client")  # type: ignore[no-any-return]


def refuse_node(request: Any, node: str | None) -> Any:
    """A 403 if the caller may not act for `node` (a till outside its store), else None. Typed
    loosely like `caller`: faust's Request and Response types are not aiohttp's, the objects are."""
    client = caller(request)
    if client is None or client.acts_for(node):
        return None
    return _error(403, f"client {client.name!r} acts for {client.store}, not for {node or '(no node)'}")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def _route(request: web.Request) -> str:
    info = request.match_info
    if info.http_exception is not None:
        return ""
    resource = info.route.resource
    return resource.canonical if resource is not None else ""


def _bucket(client: Client) -> Bucket:
    bucket = _buckets.get(client.name)
    if bucket is None:
        rate = client.rate_per_s or settings.http_rate_per_s
        bucket = _buckets[client.name] = Bucket(rate, max(1.0, settings.http_rate_burst * rate
                                                          / settings.http_rate_per_s))
    return bucket


def _audit(request: web.Request, client: Client | None, claimed: str, route: str, status: int, reason: str,
           started: float) -> None:
    event = HttpRequestAudited(
        event_id=f"audit-{uuid.uuid4().hex}", occurred_at=clock.now(), source_node="web",
        request_id=request.get("omni.request_id", "-"), client=claimed[:64], authenticated=client is not None,
        scopes=tuple(sorted(client.scopes)) if client else (), method=request.method[:16], route=route[:512],
        path=mask_text(request.path)[:512], status=status, reason=mask_text(reason)[:512],
        remote=str(request.remote or "")[:64],
        duration_ms=min(3_600_000.0, (time.perf_counter() - started) * 1000),
    )
    if len(_pending) >= MAX_PENDING_AUDITS:  # the producer cannot keep up (a flood): count, do not queue
        AUDITS_DROPPED.inc()
        return
    task = asyncio.ensure_future(publish(AUDIT_REQUESTS, event))  # never delays or fails the answer
    _pending.add(task)
    task.add_done_callback(_published)


def _published(task: asyncio.Task[Any]) -> None:
    _pending.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("could not publish an audit record: %s", task.exception())


async def _body(request: web.Request) -> Any:
    """The request body as JSON, or None: leniently, only to see which store it names (the view
    decodes it strictly; aiohttp keeps the bytes read, so it reads them again for free)."""
    raw = await request.read()  # over OMNI_HTTP_MAX_BODY_BYTES: a 413, answered by the guard
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    request["omni.request_id"] = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
    route = _route(request)
    claimed = request.headers.get("X-Client", "")
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not route:  # no such route (404) or method (405): the framework's answer, as JSON
        try:
            return await handler(request)
        except web.HTTPException as err:
            return _error(err.status, f"{request.method} {request.path}: {err.reason}")
    verdict = authorize(_clients, request.method, route, claimed, token)
    rule = verdict.rule
    if not verdict.allowed:
        if _refusals.take(time.monotonic()) == 0:  # a tokenless flood must not flood the log as well
            log.warning("refused %s %r from %s (%r): %s", request.method, mask_text(request.path), request.remote,
                        claimed[:64] or "no client", verdict.reason)
        _audit(request, verdict.client, claimed, route, verdict.status, verdict.reason, started)
        return _error(verdict.status, verdict.reason)
    client = verdict.client
    request["omni.client"] = client
    if rule is not None and rule.node_field is not None and client is not None and client.store:
        try:
            status, reason = 403, node_refusal(verdict, await _body(request))
        except web.HTTPException as err:  # the body over its limit: read once, so refused here
            status, reason = err.status, f"{err.reason} (at most {settings.http_max_body_bytes} bytes)"
        except Exception as err:  # the body could not be read at all (the caller went away)
            status, reason = 400, f"the body could not be read ({type(err).__name__})"
        if reason:
            _audit(request, client, claimed, route, status, reason, started)
            return _error(status, f"{request.method} {request.path}: {reason}" if status != 403 else reason)
    if client is not None and rule is not None and rule.limited:
        wait = _bucket(client).take(time.monotonic())
        if wait > 0:
            reason = f"client {client.name!r} is over its rate of {_bucket(client).rate:g} requests/s on this worker"
            _audit(request, client, claimed, route, 429, reason, started)
            return _error(429, reason + "; retry after the time in Retry-After",
                          headers={"Retry-After": str(max(1, math.ceil(wait)))})
    try:
        response = await handler(request)
        status, reason = response.status, ""
    except web.HTTPException as err:  # e.g. 413 from a body over OMNI_HTTP_MAX_BODY_BYTES
        status, reason = err.status, str(err.reason)
        response = _error(status, f"{request.method} {request.path}: {err.reason}"
                          + (f" (at most {settings.http_max_body_bytes} bytes)" if status == 413 else ""))
    except Exception:  # a bug: one line with an id for the log, a JSON 500 for the caller
        error_id = uuid.uuid4().hex[:12]
        log.exception("error %s answering %s %r", error_id, request.method, mask_text(request.path))
        status, reason = 500, f"internal error {error_id}"
        response = _error(500, f"internal error {error_id}; the worker's log has it under that id")
    if (rule is not None and rule.changes) or status in (401, 403, 429):  # not a recovering /health's 503
        _audit(request, client, claimed, route, status, reason, started)
    return response


cast(Any, app.web).web_app.middlewares.append(guard)  # faust's Web type does not declare its aiohttp app
