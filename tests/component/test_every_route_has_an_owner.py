"""Every route the worker registers has an access rule, and none answers a caller outside it.

Walks the aiohttp router of the composed app (app.py: every view imported), calling each route
through the guard middleware on a real local HTTP server: without a token, with a wrong one,
and with a valid token of a scope the route does not allow. The handlers never run for those
(the guard answers first), so no broker is needed; audit records are captured, not published.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from unittest.mock import patch

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from domain.access import POLICY, SCOPES, clients_from_env

TOKENS = ",".join(f"only-{s}:tok-{s}:{s}" + (":store-0001" if s == "till" else "") for s in SCOPES)


def _registered(app: web.Application) -> set[tuple[str, str]]:
    return {(r.method, r.resource.canonical) for r in app.router.routes()
            if r.method not in ("HEAD", "OPTIONS") and r.resource is not None}


def _concrete(pattern: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-1", pattern)


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, list[Any], web.Application]]:
    composed = importlib.import_module("app")  # the composition root: every view registered
    from views import access

    audited: list[Any] = []
    registered = composed.app.web.web_app
    assert access.guard in registered.middlewares
    web_app = web.Application(middlewares=[access.guard])  # a fresh app per test: one event loop each
    for route in registered.router.routes():  # HEAD and OPTIONS too: Faust registers them for every view
        if route.resource is not None:
            web_app.router.add_route(route.method, route.resource.canonical, route.handler)
    with patch.object(access, "_clients", clients_from_env(TOKENS)), \
            patch.object(access, "_audit", lambda request, client, claimed, route, status, reason, started:
                         audited.append((claimed, route, status, reason))):
        server = TestServer(web_app)
        await server.start_server()
        try:
            yield str(server.make_url("")).rstrip("/"), audited, web_app
        finally:
            await server.close()


async def test_every_registered_route_has_an_access_rule_and_every_rule_a_route(
        served: tuple[str, list[Any], web.Application]) -> None:
    _, _, web_app = served
    registered = _registered(web_app)
    assert registered, "no routes found: the composition root registered no view"
    assert sorted(registered - set(POLICY)) == [], "routes without an access rule (add them to domain/access.POLICY)"
    assert sorted(set(POLICY) - registered) == [], "rules for routes the app does not register"


async def test_no_protected_route_answers_without_a_valid_token_in_scope(
        served: tuple[str, list[Any], web.Application]) -> None:
    base, audited, web_app = served
    protected = sorted(r for r in _registered(web_app) if POLICY[r].scopes)
    assert len(protected) >= 15
    async with aiohttp.ClientSession() as http:
        for method, route in protected:
            url = base + _concrete(route)
            body = {"sku": "SKU-1"} if method == "POST" else None
            for headers in ({}, {"X-Client": "only-operator"}, {"X-Client": "only-operator",
                                                                  "Authorization": "Bearer wrong"},
                            {"X-Client": "nobody", "Authorization": "Bearer tok-operator"}):
                async with http.request(method, url, json=body, headers=headers) as answer:
                    assert answer.status == 401, (method, route, headers)
                    assert "error" in await answer.json()
            for scope in sorted(set(SCOPES) - POLICY[(method, route)].scopes):
                headers = {"X-Client": f"only-{scope}", "Authorization": f"Bearer tok-{scope}"}
                async with http.request(method, url, json=body, headers=headers) as answer:
                    assert answer.status == 403, (method, route, scope)
                    error = (await answer.json())["error"]
                    assert scope in error and "needs one of" in error
    refused = {(route, status) for _, route, status, _ in audited}
    assert {(route, 401) for _, route in protected} <= refused, "every refusal is audited"
    async with aiohttp.ClientSession() as http:  # Faust's HEAD runs the GET view: it needs the GET's token
        for method, route in protected:
            if method == "GET":
                async with http.head(base + _concrete(route)) as answer:
                    assert answer.status == 401, ("HEAD", route)


async def test_unknown_routes_and_methods_answer_json_errors(served: tuple[str, list[Any], web.Application]) -> None:
    base, _, _ = served
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/no/such/route") as answer:
            assert answer.status == 404 and "error" in await answer.json()
        async with http.delete(base + "/holds/") as answer:
            assert answer.status == 405 and "error" in await answer.json()


async def test_a_client_over_its_rate_gets_429_with_retry_after(served: tuple[str, list[Any], web.Application]) -> None:
    from views import access

    base, audited, _ = served
    headers = {"X-Client": "only-web", "Authorization": "Bearer tok-web"}
    access._buckets.clear()
    with patch.object(access, "settings", replace(access.settings, http_rate_per_s=0.5, http_rate_burst=2.0)):
        statuses = []
        async with aiohttp.ClientSession() as http:
            for _ in range(4):  # a body the view refuses itself: the handler never reaches Kafka
                async with http.post(base + "/holds/", data=b"not json", headers=headers) as answer:
                    statuses.append(answer.status)
                    if answer.status == 429:
                        assert int(answer.headers["Retry-After"]) >= 1
                        assert "rate" in (await answer.json())["error"]
    access._buckets.clear()
    assert statuses == [400, 400, 429, 429]
    assert [status for _, route, status, _ in audited if route == "/holds/"][-2:] == [429, 429]


async def test_the_open_routes_answer_without_a_token(served: tuple[str, list[Any], web.Application]) -> None:
    base, _, web_app = served
    open_routes = sorted(r for r in _registered(web_app) if not POLICY[r].scopes)
    assert ("GET", "/metrics") in open_routes
    async with aiohttp.ClientSession() as http:
        for method, route in open_routes:  # no consumer runs here: the view may fail, the guard must not refuse
            async with http.request(method, base + route) as answer:
                assert answer.status not in (401, 403, 429), (route, await answer.text())


async def test_a_till_may_not_act_for_another_store(served: tuple[str, list[Any], web.Application]) -> None:
    base, audited, _ = served
    headers = {"X-Client": "only-till", "Authorization": "Bearer tok-till"}
    async with aiohttp.ClientSession() as http:
        for route, field in (("/holds/", "node"), ("/baskets/price/", "node"), ("/pricing/leases/", "store"),
                             ("/holds/commit/", "node")):
            async with http.post(base + route, json={field: "store-0002"}, headers=headers) as answer:
                assert answer.status == 403, route
                assert "store-0001" in (await answer.json())["error"]
            async with http.post(base + route, data=b"[" * 50_000, headers=headers) as answer:
                assert answer.status == 403, route  # names no store: refused before any view decodes it
    assert [status for _, route, status, _ in audited if route == "/pricing/leases/"] == [403, 403]
    async with aiohttp.ClientSession() as http:  # a commit naming no node is checked by the view (the hold's node)
        async with http.post(base + "/holds/commit/", json={"hold_id": "h-1"}, headers=headers) as answer:
            assert answer.status == 400


async def test_a_till_may_not_commit_release_or_read_another_stores_hold(
        served: tuple[str, list[Any], web.Application]) -> None:
    from types import SimpleNamespace

    from views import holds

    base, _, _ = served
    stock = SimpleNamespace(holds={"h-1": SimpleNamespace(node="store-0002")})
    headers = {"X-Client": "only-till", "Authorization": "Bearer tok-till"}
    with patch.object(holds, "is_mine", return_value=True), patch.object(holds, "get_stock", return_value=stock):
        async with aiohttp.ClientSession() as http:
            for path, payload in (("/holds/commit/", {"hold_id": "h-1", "sku": "SKU-001", "cause": "sale"}),
                                  ("/holds/release/", {"hold_id": "h-1", "sku": "SKU-001", "reason": "x"})):
                async with http.post(base + path, json=payload, headers=headers) as answer:
                    assert answer.status == 403, (path, await answer.text())
                    assert "store-0001" in (await answer.json())["error"]
            async with http.get(base + "/holds/SKU-001/h-1/", headers=headers) as answer:
                assert answer.status == 403


async def test_a_hold_on_a_partition_that_is_behind_gets_503_at_once_and_is_not_published(
        served: tuple[str, list[Any], web.Application]) -> None:
    import time

    from runtime import replies
    from streams.topics import INVENTORY_MOVEMENTS
    from views import holds

    base, audited, _ = served
    body = {"hold_id": "h-9", "order_id": "o-9", "sku": "SKU-009", "node": "store-0001", "quantity": 1, "ttl_s": 60}
    asked = holds._build("place", holds.HoldRequest.model_validate(body))
    lane = replies.lane(INVENTORY_MOVEMENTS, asked)
    replies.sent("stuck-command", lane, at=time.monotonic() - 2 * holds.ANSWER_TIMEOUT_S)
    published: list[Any] = []

    async def publish(*args: Any, **kwargs: Any) -> None:
        published.append(args)

    headers = {"X-Client": "only-web", "Authorization": "Bearer tok-web"}
    try:
        with patch.object(holds, "is_mine", return_value=True), patch.object(holds, "publish", publish):
            async with aiohttp.ClientSession() as http, http.post(base + "/holds/", json=body,
                                                                   headers=headers) as answer:
                assert answer.status == 503
                assert int(answer.headers["Retry-After"]) >= 1
                assert "behind" in (await answer.json())["error"]
    finally:
        replies.answered(type("Answer", (), {"command_id": "stuck-command"})())
    assert published == []
    assert [status for _, route, status, _ in audited if route == "/holds/"] == [503]


async def test_a_client_may_not_capture_or_void_another_clients_points_hold(
        served: tuple[str, list[Any], web.Application]) -> None:
    from types import SimpleNamespace

    from views import wallets

    base, _, _ = served
    wallet = SimpleNamespace(holds={"r-1": SimpleNamespace(client="only-web")}, merged_into=None)
    headers = {"X-Client": "only-app", "Authorization": "Bearer tok-app"}
    with patch.object(wallets, "is_mine", return_value=True), patch.object(wallets, "get_wallet", return_value=wallet):
        async with aiohttp.ClientSession() as http:
            for action in ("capture", "void"):
                async with http.post(f"{base}/wallets/cus-1/holds/r-1/{action}/", json={},
                                     headers=headers) as answer:
                    assert answer.status == 403, (action, await answer.text())
                    assert "another client" in (await answer.json())["error"]
    placed_by = SimpleNamespace(name="only-web", scopes=frozenset({"web"}))
    operator = SimpleNamespace(name="ops", scopes=frozenset({"operator"}))
    capture = SimpleNamespace(request_id="r-1")
    with patch.object(wallets, "get_wallet", return_value=wallet):
        assert wallets._not_theirs(None, placed_by, "cus-1", capture) is None  # type: ignore[arg-type]
        assert wallets._not_theirs(None, operator, "cus-1", capture) is None  # type: ignore[arg-type]
