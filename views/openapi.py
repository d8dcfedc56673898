"""`GET /openapi.json`: the worker's HTTP API as an OpenAPI 3.1 document (views/api_spec.py; open to all)."""

from __future__ import annotations

from faust.web import Request, Response, View

from runtime.app import app
from views.api_spec import document

DOCUMENT = document()


@app.page("/openapi.json")
class OpenApiView(View):
    async def get(self, request: Request) -> Response:
        return self.json(DOCUMENT)
