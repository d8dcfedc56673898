"""Wallets over HTTP, on the worker that owns the wallet: read, and two-phase redemption.

`GET /wallets/{customer_id}/`: 404 for a customer whose wallet never saw a command (nothing earned,
held or merged), 400 for a malformed customer id (`streams.base.Id`); else balances, recent holds,
the tier and the spend that explains it,
as of now (business time, `OMNI_CLOCK_SHIFT`); `ledger` has the balances as posted so far and
`due` what time has changed since that the wallet timer has not yet posted (within
`OMNI_WALLET_TIMER_S`): once it has, `ledger` equals the balances shown.
A customer merged into another is answered by the survivor's wallet (`customer_id` says whose).
`POST /wallets/{customer_id}/holds/` {request_id, points, ttl_s}: reserve points for a
transaction (`views/requests.py` HoldPointsRequest: ttl_s finite, > 0, at most 30 days); answered once
the wallet decided: 201 granted, 409 declined (with the reason), 503 at once if the wallet's partition
is behind (an earlier command waits longer than the answer timeout: `runtime/replies.py`).
`POST /wallets/{customer_id}/holds/{request_id}/capture/` and `.../void/` {reason}: finish it.
Idempotent by request id. Every route needs a client token (views/access.py: `X-Client` and
`Authorization: Bearer`); without one it is refused (401), outside the scopes 403, logged and
audited. The same commands can be published to `loyalty.commands` (the topic path), with
answers on `loyalty.answers`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from faust.web import Request, Response, View
from pydantic import ValidationError

from domain.access import Client
from domain.wallet import Entry, TierMove, Wallet, advance, next_due, spend_total
from runtime import replies
from runtime.app import app, clock, loyalty_rules, settings
from runtime.publish import publish
from streams.loyalty import CapturePoints, HoldPoints, VoidPoints
from streams.topics import LOYALTY_COMMANDS
from tables.wallets import get_wallet, wallets_table
from views import body
from views.access import caller
from views.owner import forward, is_mine
from views.requests import Body, CapturePointsRequest, HoldPointsRequest, VoidPointsRequest

log = logging.getLogger("omnistream.wallets")
ANSWER_TIMEOUT_S = settings.wallet_answer_timeout_s
STATUS = {"granted": 201, "declined": 409, "unknown": 404}
Command = HoldPoints | CapturePoints | VoidPoints


async def _change(view: View, request: Request, customer_id: str, model: type[Body],
                  build: Callable[[Any, str], Command], request_id: str | None = None) -> Response:
    if (malformed := body.bad_path(view, customer_id=customer_id, **({"request_id": request_id}
                                                                      if request_id is not None else {}))) is not None:
        return malformed
    try:
        asked = await body.read(request, model)
        client = caller(request)  # type: ignore[arg-type]  # faust's Request is aiohttp's
        command = build(asked, client.name if client else "")
    except body.BodyError as err:
        return body.refuse(view, err)
    except ValidationError as err:
        return body.refuse(view, body.describe(err))
    owner = await _survivor(view, request, customer_id, asked.model_dump(mode="json"))
    if not isinstance(owner, str):  # the answer of the worker that owns it (or a 503)
        return owner
    customer_id, command = owner, command.model_copy(update={"customer_id": owner})
    if (other := _not_theirs(view, client, owner, command)) is not None:
        return other
    lane = replies.lane(LOYALTY_COMMANDS, command)
    if waited := replies.behind(lane, ANSWER_TIMEOUT_S):
        return view.json({"error": f"the wallet's partition is behind (a command has waited {waited:.1f}s for its "
                                   f"answer, over {ANSWER_TIMEOUT_S}s); retry later"},
                         status=503, headers={"Retry-After": "1"})
    future = replies.waiter(command.event_id)
    try:
        await publish(LOYALTY_COMMANDS, command)
        replies.sent(command.event_id, lane)
        answer = await asyncio.wait_for(future, ANSWER_TIMEOUT_S)
    except TimeoutError:
        if isinstance(command, HoldPoints):
            # The caller gives up on this request: a hold granted after the answer came too late
            # must not keep the points until its time to live. The void follows the hold on the
            # wallet's log, so it resolves it whichever way the wallet decided.
            give_up = VoidPoints(**_common(customer_id, command.client), request_id=command.request_id,
                                 reason=f"no answer within {ANSWER_TIMEOUT_S}s (the caller was told 504)")
            await publish(LOYALTY_COMMANDS, give_up)
            message = (f"no answer within {ANSWER_TIMEOUT_S}s: request {command.request_id} is voided; "
                       "ask again with a new request_id")
        else:
            message = (f"no answer within {ANSWER_TIMEOUT_S}s; ask again with the same request_id "
                       f"(it answers the hold's state) or GET /wallets/{customer_id}/")
        log.warning("%s for %s: %s", type(command).__name__, customer_id, message)
        return view.json({"error": message}, status=504)
    finally:
        replies.forget(command.event_id, future)
    status, shown = STATUS.get(answer.status, 200), answer.model_dump(mode="json")
    if status >= 400:  # the answer, and like every error answer an `error` saying why
        shown["error"] = f"request {answer.request_id} {answer.status}" + (f": {answer.reason}" * bool(answer.reason))
    return view.json(shown, status=status)


def _not_theirs(view: View, client: Client | None, customer_id: str, command: Command) -> Response | None:
    """A 403 if `client` captures or voids a points hold another client placed (an operator may)."""
    if isinstance(command, HoldPoints) or client is None or "operator" in client.scopes:
        return None
    held = get_wallet(customer_id).holds.get(command.request_id)
    if held is None or not held.client or held.client == client.name:
        return None
    return view.json({"error": f"points hold {command.request_id} was placed by another client; only it (or an "
                               "operator) may capture or void it"}, status=403)


async def _survivor(view: View, request: Request, customer_id: str, body: Any = None) -> str | Response:
    """The wallet that answers for `customer_id`: its own, or, once merged away, the survivor's
    (followed along the chain), here or through the worker that owns it."""
    asked = customer_id
    while True:
        if not is_mine(customer_id, wallets_table):
            path = request.rel_url.path.replace(f"/wallets/{asked}/", f"/wallets/{customer_id}/", 1)
            return await forward(view, request, customer_id, body, table=wallets_table, path=path)
        merged = get_wallet(customer_id).merged_into
        if merged is None:
            return customer_id
        customer_id = merged


def _due(ledger: Wallet, entries: list[Entry], lapsed: TierMove | None, now: datetime) -> dict[str, Any] | None:
    """What time has changed that the ledger does not hold yet (the timer's next advance), and since when."""
    since = next_due(ledger, loyalty_rules)
    if since is None or since > now:
        return None
    return {
        "since": since.isoformat(),
        "entries": [e.model_dump(mode="json", include={"cause", "debit", "credit", "points"}) for e in entries],
        "tier": lapsed.tier if lapsed else None,
    }


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _common(customer_id: str, client: str) -> dict[str, Any]:
    return {"event_id": f"http-{uuid.uuid4().hex}", "occurred_at": clock.now(), "source_node": "web",
            "customer_id": customer_id}


@app.page("/wallets/{customer_id}/")
class WalletView(View):
    async def get(self, request: Request, customer_id: str) -> Response:
        if (malformed := body.bad_path(self, customer_id=customer_id)) is not None:
            return malformed
        owner = await _survivor(self, request, customer_id)
        if not isinstance(owner, str):  # the answer of the worker that owns it (or a 503)
            return owner
        ledger = get_wallet(owner)
        if ledger == Wallet(customer_id=owner):  # nothing ever happened to it: no such wallet
            return self.json({"error": f"no wallet for customer {owner}: nothing earned, held or merged yet"},
                             status=404)
        now = clock.now()
        due, lapsed = advance(ledger, now, loyalty_rules)  # as of now: what the wallet timer will post
        wallet = due.wallet
        return self.json({
            "customer_id": owner,
            "as_of": now.isoformat(),
            "pending": wallet.balance("pending"),
            "available": wallet.balance("available"),
            "held": wallet.balance("held"),
            # The ledger as applied so far; it equals the balances above once the timer's
            # `loyalty.advance` for what is due (listed in `due`) is applied.
            "ledger": {a: ledger.balance(a) for a in ("pending", "available", "held")} | {"tier": ledger.tier},
            "due": _due(ledger, due.entries, lapsed, now),
            "next_due": _iso(next_due(wallet, loyalty_rules)),
            "holds": {rid: h.model_dump(mode="json", exclude={"taken"}) for rid, h in wallet.holds.items()},
            "tier": wallet.tier,
            "tier_spend_cents": spend_total(wallet),
            "spend_by_day": dict(sorted(wallet.spend.items())),  # what explains the tier
            "tier_thresholds_cents": loyalty_rules.tier_thresholds_cents,
        })


@app.page("/wallets/{customer_id}/holds/")
class HoldPointsView(View):
    async def post(self, request: Request, customer_id: str) -> Response:
        def build(asked: HoldPointsRequest, client: str) -> HoldPoints:
            common = _common(customer_id, client)
            return HoldPoints(**common, request_id=asked.request_id, points=asked.points, client=client,
                              expires_at=common["occurred_at"] + timedelta(seconds=asked.ttl_s))
        return await _change(self, request, customer_id, HoldPointsRequest, build)


@app.page("/wallets/{customer_id}/holds/{request_id}/capture/")
class CapturePointsView(View):
    async def post(self, request: Request, customer_id: str, request_id: str) -> Response:
        return await _change(self, request, customer_id, CapturePointsRequest, lambda asked, client: CapturePoints(
            **_common(customer_id, client), request_id=request_id), request_id)


@app.page("/wallets/{customer_id}/holds/{request_id}/void/")
class VoidPointsView(View):
    async def post(self, request: Request, customer_id: str, request_id: str) -> Response:
        return await _change(self, request, customer_id, VoidPointsRequest, lambda asked, client: VoidPoints(
            **_common(customer_id, client), request_id=request_id, reason=asked.reason), request_id)
