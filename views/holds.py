"""Holds over HTTP: place, commit and release on the worker that owns the SKU, and read back.

`POST /holds/` with {hold_id, order_id, sku, node, quantity, ttl_s} (`views/requests.py`:
HoldRequest; ttl_s finite, > 0, at most 30 days) answers once the stock authority decided
(read-your-writes): 201 granted, 409 rejected, 504 if no answer in time, 503 at once (with
Retry-After) if the SKU's partition is behind: an earlier command there has waited longer than
the answer timeout (`runtime/replies.py`). `POST /holds/commit/` and `/holds/release/` take
{hold_id, sku, cause | reason}. Every error is JSON with `error`.
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
from views import body
from views.access import refuse_node
from views.owner import forward, is_mine
from views.requests import CommitHoldRequest, HoldRequest, ReleaseHoldRequest

ANSWER_TIMEOUT_S = 5.0
RETRY_AFTER_S = 1
STATUS = {"granted": 201, "rejected": 409, "unknown": 404}
Command = PlaceHold | CommitHold | ReleaseHold
MODELS: dict[str, type[HoldRequest | CommitHoldRequest | ReleaseHoldRequest]] = {
    "place": HoldRequest, "commit": CommitHoldRequest, "release": ReleaseHoldRequest}


async def decide(command: Command) -> tuple[int, dict[str, Any]]:
    """The authority's answer to `command` and its status; 503 at once if the SKU's partition is behind."""
    lane = replies.lane(INVENTORY_MOVEMENTS, command)
    waited = replies.behind(lane, ANSWER_TIMEOUT_S)
    if waited:
        return 503, {"error": f"{command.sku}: its partition is behind (a command has waited {waited:.1f}s for "
                              f"its answer, over {ANSWER_TIMEOUT_S}s); retry later", "retry_after_s": RETRY_AFTER_S}
    future = replies.waiter(command.event_id)
    try:
        await publish(INVENTORY_MOVEMENTS, command)
        replies.sent(command.event_id, lane)
        answer: HoldAnswered = await asyncio.wait_for(future, ANSWER_TIMEOUT_S)
    except TimeoutError:
        return 504, {"error": f"no answer within {ANSWER_TIMEOUT_S}s; GET /holds/{command.sku}/<hold_id>/ later"}
    finally:
        replies.forget(command.event_id, future)
    status, shown = STATUS.get(answer.answer, 200), answer.model_dump(mode="json")
    if status >= 400:  # the answer, and like every error answer an `error` saying why
        shown["error"] = f"hold {answer.hold_id} {answer.answer}" + (f": {answer.reason}" if answer.reason else "")
    return status, shown


def _build(kind: str, asked: HoldRequest | CommitHoldRequest | ReleaseHoldRequest) -> Command:
    now = clock.now()
    common = {"event_id": f"http-{uuid.uuid4().hex}", "occurred_at": now, "source_node": "web"}
    if isinstance(asked, HoldRequest):
        fields = asked.model_dump(exclude={"ttl_s"})
        return PlaceHold(**common, **fields, expires_at=now + timedelta(seconds=asked.ttl_s))
    if isinstance(asked, CommitHoldRequest):
        return CommitHold(**common, **asked.model_dump())
    return ReleaseHold(**common, **asked.model_dump())


async def _post(view: View, request: Request, kind: str) -> Response:
    try:
        asked = await body.read(request, MODELS[kind])
        command = _build(kind, asked)
    except body.BodyError as err:
        return body.refuse(view, err)
    except ValidationError as err:  # a rule across fields the request model does not hold
        return body.refuse(view, body.describe(err))
    if not is_mine(command.sku):
        return await forward(view, request, command.sku, asked.model_dump(mode="json"))
    if not isinstance(command, PlaceHold) and (other := _other_store(request, command.sku, command.hold_id)):
        return other
    status, answer = await decide(command)
    return view.json(answer, status=status, headers={"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None)


def _other_store(request: Request, sku: str, hold_id: str) -> Response | None:
    """A 403 if a till commits or releases a hold of another store (here, on the SKU's owner:
    only it knows the hold's node; the place request names it, and the guard checked that)."""
    hold = get_stock(sku).holds.get(hold_id)
    return None if hold is None else refuse_node(request, hold.node)


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
        if (malformed := body.bad_path(self, sku=sku, hold_id=hold_id)) is not None:
            return malformed
        if not is_mine(sku):
            return await forward(self, request, sku)
        hold = get_stock(sku).holds.get(hold_id)
        if hold is None:
            return self.json({"error": f"no hold {hold_id} on {sku}"}, status=404)
        if (other := refuse_node(request, hold.node)) is not None:
            return other
        return self.json(hold.model_dump(mode="json"))
