"""`POST /customers/resolve/` {kind, value}: the canonical customer id of an identifier.

The body is `views/requests.py` ResolveRequest.
A web checkout or till knows a customer by an email, phone, card or account; this answers the
customer id that wallets are keyed by. The raw value travels in the request body only (never in
a URL, so not in access logs), is normalised and hashed here, and the question is answered by
the worker that owns the hashed identifier. It tells whether an email or phone belongs to a
customer, so it needs a client token (views/access.py: `X-Client` + `Authorization: Bearer`, scopes
till, web, app, backoffice or operator); refusals are logged and audited.
"""

from __future__ import annotations

import logging

from faust.web import Request, Response, View

from domain.identity import InvalidIdentifierError, hashed, normalise
from runtime.app import app, settings
from tables.identities import get_identity, identities_table
from views import body
from views.owner import forward, is_mine
from views.requests import ResolveRequest

log = logging.getLogger("omnistream.identity")


@app.page("/customers/resolve/")
class ResolveView(View):
    async def post(self, request: Request) -> Response:
        try:
            asked = await body.read(request, ResolveRequest)
            identifier = hashed(asked.kind, normalise(asked.kind, asked.value), settings.identity_key)
        except (body.BodyError, InvalidIdentifierError) as err:
            return body.refuse(self, f"give kind and value ({err})")
        if not is_mine(identifier, identities_table):
            return await forward(self, request, identifier, asked.model_dump(), table=identities_table)
        record = get_identity(identifier)
        if record is None:
            return self.json({"error": "no customer known by this identifier", "identifier": identifier},
                             status=404)
        return self.json({"identifier": identifier, "customer_id": record.customer_id,
                          "customer_since": record.since.isoformat()})
