"""`POST /customers/resolve/` {kind, value}: the canonical customer id of an identifier.

A web checkout or till knows a customer by an email, phone, card or account; this answers the
customer id that wallets are keyed by. The raw value travels in the request body only (never in
a URL, so not in access logs), is normalised and hashed here, and the question is answered by
the worker that owns the hashed identifier. It tells whether an email or phone belongs to a
customer, so it needs a client token (views/access.py: `X-Client` + `Authorization: Bearer`, scopes
till, web, app, backoffice or operator); refusals are logged and audited.
"""

from __future__ import annotations

import logging
from typing import Any, get_args

from faust.web import Request, Response, View

from domain.identity import InvalidIdentifierError, hashed, normalise
from runtime.app import app, settings
from streams.pos import IdentifierKind
from tables.identities import get_identity, identities_table
from views.owner import forward, is_mine

log = logging.getLogger("omnistream.identity")


@app.page("/customers/resolve/")
class ResolveView(View):
    async def post(self, request: Request) -> Response:
        try:
            body: dict[str, Any] = await request.json()
            kind = body["kind"]
            if kind not in get_args(IdentifierKind):
                raise ValueError(f"kind is one of {', '.join(get_args(IdentifierKind))}")
            identifier = hashed(kind, normalise(kind, str(body["value"])), settings.identity_key)
        except (ValueError, KeyError, TypeError, InvalidIdentifierError) as err:
            return self.json({"error": f"bad request: give kind and value ({err})"}, status=400)
        if not is_mine(identifier, identities_table):
            return await forward(self, request, identifier, body, table=identities_table)
        record = get_identity(identifier)
        if record is None:
            return self.json({"error": "no customer known by this identifier", "identifier": identifier},
                             status=404)
        return self.json({"identifier": identifier, "customer_id": record.customer_id,
                          "customer_since": record.since.isoformat()})
