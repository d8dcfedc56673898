"""Who may change wallets or look customers up: per-client tokens from settings."""

from __future__ import annotations

import hmac

from faust.web import Request

from runtime.app import settings


def remote(request: Request) -> str:
    """The caller's address, for logs (aiohttp's `remote`; faust's Request type does not declare it)."""
    return str(getattr(request, "remote", "?"))


def refused(request: Request) -> str | None:
    """Why the caller may not change wallets, or None."""
    client = request.headers.get("X-Client", "")
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    expected = settings.loyalty_tokens.get(client)
    if not settings.loyalty_tokens:
        return "no client tokens configured (OMNI_LOYALTY_TOKENS)"
    if expected is None or not hmac.compare_digest(expected, token):
        return f"client {client or '(none)'!r} without a valid token"
    return None
