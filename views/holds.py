"""Holds over HTTP: place, commit and release on the worker that owns the SKU, and read back.

`POST /holds/` with {hold_id, order_id, sku, node, quantity, ttl_s} answers once the stock
authority decided (read-your-writes): 201 granted, 409 rejected, 504 if no answer in time.
`POST /holds/commit/` and `/holds/release/` take {hold_id, sku, cause | reason}.
`GET /holds/{sku}/{hold_id}/` is the hold's state. A POST reaching the wrong worker is
forwarded with its body to the owner (views/owner.py: by the raw SKU, as the log is keyed).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from faust.web import Request, Response, View
from pydantic import ValidationError

from runtime import replies
from runtime.app import app, clock
from runtime.publish import publish
from streams.holds import CommitHold, HoldAnswered, PlaceHold, ReleaseHold
from streams.topics import INVENTORY_MOVEMENTS
from tables.stock import get_stock
from views.owner import forward, is_mine

ANSWER_TIMEOUT_S = 5.0
STATUS = {"granted": 201, "rejected": 409, "unknown": 404}




async def decide(command: PlaceHold | CommitHold | ReleaseHold) -> tuple[int, dict[str, Any]]:
    future = replies.waiter(command.event_id)
    try:
        await publish(INVENTORY_MOVEMENTS, command)
        answer: HoldAnswered = await asyncio.wait_for(future, ANSWER_TIMEOUT_S)
    except TimeoutError:
        return 504, {"error": f"no answer within {ANSWER_TIMEOUT_S}s; GET /holds/{command.sku}/<hold_id>/ later"}
    finally:
        replies.forget(command.event_id, future)
    return STATUS.get(answer.answer, 200), answer.model_dump(mode="json")


def _build(kind: str, body: dict[str, Any]) -> PlaceHold | CommitHold | ReleaseHold:
    now = clock.now()
    common = {"event_id": f"http-{uuid.uuid4().hex}", "occurred_at": now, "source_node": "web"}
    if kind == "place":
        ttl = float(body.pop("ttl_s", 900))
        return PlaceHold(**common, **body, expires_at=now + timedelta(seconds=ttl))
    if kind == "commit":
        return CommitHold(**common, **body)
    return ReleaseHold(**common, **body)


async def _post(view: View, request: Request, kind: str) -> Response:
    try:
        body = await request.json()
        command = _build(kind, dict(body))
    except (ValueError, TypeError, ValidationError) as err:
        return view.json({"error": f"bad request: {err}"}, status=400)
    if not is_mine(command.sku):
        return await forward(view, request, command.sku, body)
    status, answer = await decide(command)
    return view.json(answer, status=status)


@app.page("/holds/")
class PlaceHoldView(View):
    async def post(self, request: Request) -> Response:
        return await _post(self, request, "place")


@app.page("/holds/commit/")
class CommitHoldView(View):
    async def post(self, request: Request) -> Response:
        return await _post(self, request, "commit")


@app.page("/holds/release/")
class ReleaseHoldView(View):
    async def post(self, request: Request) -> Response:
        return await _post(self, request, "release")


@app.page("/holds/{sku}/{hold_id}/")
class HoldView(View):
    async def get(self, request: Request, sku: str, hold_id: str) -> Response:
        if not is_mine(sku):
            return await forward(self, request, sku)
        hold = get_stock(sku).holds.get(hold_id)
        if hold is None:
            return self.json({"error": f"no hold {hold_id} on {sku}"}, status=404)
        return self.json(hold.model_dump(mode="json"))
