"""The dashboard admits clients of scope backoffice or operator (Basic or bearer); /health and /metrics stay open."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from dashboard.auth import admit, credentials
from dashboard.server import build
from domain.access import clients_from_env
from settings import Settings

CLIENTS = "ops:op-token:operator,shop:web-token:web,bo:bo-token:backoffice+web"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_credentials_come_from_basic_auth_or_a_bearer_token_with_its_client() -> None:
    assert credentials(basic("ops", "op:token")) == ("ops", "op:token")  # a colon in the password is kept
    assert credentials({"X-Client": "ops", "Authorization": "Bearer op-token"}) == ("ops", "op-token")
    assert credentials({"Authorization": "Basic !!not-base64"}) == ("", "")
    assert credentials({}) == ("", "")


def test_only_a_valid_token_of_a_backoffice_or_operator_client_is_admitted() -> None:
    clients = clients_from_env(CLIENTS)
    assert admit(clients, "ops", "op-token")[0] == 200
    assert admit(clients, "bo", "bo-token")[0] == 200
    assert admit(clients, "shop", "web-token")[0] == 403
    assert admit(clients, "ops", "wrong")[0] == 401
    assert admit(clients, "nobody", "op-token")[0] == 401
    assert admit(clients_from_env(""), "ops", "op-token")[0] == 401


async def test_the_page_asks_a_browser_for_basic_credentials_and_health_and_metrics_stay_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMNI_DUCKDB_PATH", str(tmp_path / "omnistream.duckdb"))
    monkeypatch.setenv("OMNI_CLIENT_TOKENS", CLIENTS)
    async with TestClient(TestServer(build(Settings.from_env()))) as client:
        for path in ("/", "/static/dashboard.js", "/api/sales-today"):
            refused = await client.get(path)
            assert refused.status == 401, path
            assert refused.headers["WWW-Authenticate"].startswith('Basic realm="omnistream"')
        assert (await client.get("/", headers=basic("ops", "op-token"))).status == 200
        assert (await client.get("/", headers={"X-Client": "bo", "Authorization": "Bearer bo-token"})).status == 200
        outside = await client.get("/", headers=basic("shop", "web-token"))
        assert outside.status == 403 and "backoffice" in (await outside.json())["error"]
        assert (await client.get("/health")).status == 200
        assert (await client.get("/metrics")).status == 200
