"""Who may see the dashboard: a client of scope backoffice or operator, by HTTP Basic auth or a bearer token.

The dashboard shows customers' points, orders and alerts, so every page, asset and panel needs
a client's token, checked against the same clients as the worker's API (`Settings.api_clients`:
OMNI_CLIENTS_FILE, OMNI_CLIENT_TOKENS). A browser gets `WWW-Authenticate: Basic` and prompts:
user = the client's name, password = its token. A script may send `X-Client` and
`Authorization: Bearer <token>` as it does to a worker. /health and /metrics stay open.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware

from domain.access import Client, Clients

SCOPES = frozenset({"backoffice", "operator"})
OPEN_PATHS = frozenset({"/health", "/metrics"})
CHALLENGE = {"WWW-Authenticate": 'Basic realm="omnistream", charset="UTF-8"'}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger("omnistream.dashboard")


def credentials(headers: Mapping[str, str]) -> tuple[str, str]:
    """(client, token) from `Authorization: Basic` or `X-Client` + `Authorization: Bearer`; empty if none."""
    scheme, _, value = headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return user, password
    if scheme.lower() == "bearer":
        return headers.get("X-Client", ""), value.strip()
    return "", ""


def admit(clients: Clients, client_name: str, token: str) -> tuple[int, str, Client | None]:
    """(200, "", client) to let the caller in; (401, why, None) without a valid token; (403, why, client)
    for a client without the backoffice or operator scope."""
    client = clients.get(client_name) if client_name and token else None
    if client is None or not client.holds_token(token):
        return 401, "the dashboard needs a client of scope backoffice or operator (user: client, password: token)", None
    if not client.scopes & SCOPES:
        return 403, f"client {client.name!r} has scopes {sorted(client.scopes)}; the dashboard needs backoffice " \
                    "or operator", client
    return 200, "", client


def guard(clients: Clients) -> Middleware:
    """The middleware: every path but OPEN_PATHS needs an admitted client."""
    if not len(clients):
        log.warning("no clients configured (OMNI_CLIENTS_FILE, OMNI_CLIENT_TOKENS): the dashboard refuses "
                    "everyone but /health and /metrics")

    @web.middleware
    async def authenticated(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS:
            return await handler(request)
        status, reason, client = admit(clients, *credentials(request.headers))
        if status != 200:
            log.warning("refused %s %s from %s (%s): %s", request.method, request.path, request.remote,
                        client.name if client else "no valid client", reason)
            return web.json_response({"error": reason}, status=status, headers=CHALLENGE if status == 401 else None)
        return await handler(request)

    return authenticated
