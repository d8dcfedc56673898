"""The dashboard's live sources over HTTP: the worker's stock authority and the sink's health and metrics."""

from __future__ import annotations

import json as jsonlib
from typing import Any
from urllib.parse import quote

import aiohttp

from dashboard.snapshot import SourceDownError
from settings import Settings

TIMEOUT = aiohttp.ClientTimeout(total=3)


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # a bind-all address is not a destination


class Sources:
    """HTTP clients of the worker and the sink; every failure becomes a SourceDownError a person can read."""

    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self.worker_url = f"http://{_reachable(settings.web_host)}:{settings.web_port}"
        self.sink_url = f"http://{_reachable(settings.sink_host)}:{settings.sink_port}"
        self.session = session
        self.worker_headers = settings.http_headers()  # the worker's API needs a client (OMNI_HTTP_CLIENT)

    async def stock(self, sku: str) -> dict[str, Any]:
        url = f"{self.worker_url}/stock/{quote(sku, safe='')}/"
        status, body = await self._get(url, "the worker (stock authority)", json=True, headers=self.worker_headers)
        if status != 200 or not isinstance(body, dict):
            detail = body.get("error") if isinstance(body, dict) else None
            raise SourceDownError(f"the worker answered {status} for {sku}" + (f": {detail}" if detail else ""))
        return body

    async def sink_health(self) -> dict[str, Any]:
        status, body = await self._get(f"{self.sink_url}/health", "the DuckDB sink", json=True)
        if not isinstance(body, dict):
            raise SourceDownError(f"the DuckDB sink's /health answered {status} without a JSON body")
        return body

    async def sink_metrics(self) -> str:
        return str((await self._get(f"{self.sink_url}/metrics", "the DuckDB sink", json=False))[1])

    async def _get(self, url: str, who: str, json: bool, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        try:
            async with self.session.get(url, timeout=TIMEOUT, headers=headers) as response:
                text = await response.text()
                return response.status, (_json_or_none(text) if json else text)
        except (aiohttp.ClientError, TimeoutError) as err:
            reason = type(err).__name__ if isinstance(err, TimeoutError) else str(err) or type(err).__name__
            raise SourceDownError(f"{who} is not answering at {url} ({reason})") from None


def _json_or_none(text: str) -> Any:
    try:
        return jsonlib.loads(text)
    except ValueError:
        return None
