"""Fulfilment over HTTP: an order's sourcing explained, and a cart's fulfilment options.

`GET /orders/{order_id}/sourcing/`: every sourcing decision of the order (the last ten), with
eliminations, scored candidates, the plan and retries; answered by the worker owning the order.
`POST /fulfilment/options/` (`views/requests.py` OptionsRequest) with {lines: [{sku, quantity,
unit_cents}], ship_to: {lat, lon}, pickup_node, hold_ttl_s}: the ranked ways to fulfil the cart
now (method, promise, nodes, promised time, cost), from this worker's snapshot; with `hold_ttl_s` the best option's
units and capacity are held for that long (answers follow on `inventory.hold-answers`).
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from faust.web import Request, Response, View

from domain.fulfilment.sourcing import Decision, OrderLine
from domain.fulfilment.sourcing import Request as SourcingRequest
from domain.orders.sourcing import planned_holds
from runtime.app import app, clock, settings
from runtime.publish import publish
from streams.fulfilment import Method, PromiseClass, ProposedOption
from streams.holds import PlaceHold
from streams.topics import INVENTORY_MOVEMENTS
from tables.orders import get_decisions, get_order, orders_table
from tables.snapshot import live_snapshot, sourcer
from views import body
from views.owner import forward, is_mine
from views.requests import OptionsRequest

CHOICES: tuple[tuple[Method, PromiseClass], ...] = (
    ("same_day", "same_day"), ("ship", "express"), ("ship", "standard"), ("pickup", "standard"),
)


@app.page("/orders/{order_id}/sourcing/")
class SourcingView(View):
    async def get(self, request: Request, order_id: str) -> Response:
        if (malformed := body.bad_path(self, order_id=order_id)) is not None:
            return malformed
        if not is_mine(order_id, orders_table):
            return await forward(self, request, order_id, table=orders_table)
        state = get_order(order_id)
        if state is None:
            return self.json({"error": f"no order {order_id} (not placed, or not yet seen)"}, status=404)
        made = get_decisions(order_id)
        if not made:
            return self.json({"error": f"order {order_id} was pinned to {state.node}: it was not sourced",
                              "order_id": order_id, "fulfilment_node": state.node}, status=404)
        return self.json({"order_id": order_id, "status": state.status, "attempts": state.attempt,
                          "excluded": state.excluded,
                          "decisions": [d.model_dump(mode="json") for d in made]})


@app.page("/fulfilment/options/")
class OptionsView(View):
    async def post(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            asked = await body.read(request, OptionsRequest)
        except body.BodyError as err:
            return body.refuse(self, err)
        if not live_snapshot.caught_up:
            return self.json({"error": "the sourcing snapshot is still loading: try again in a few seconds"},
                             status=503)
        live_snapshot.expire_reservations()
        options, best = _options(asked)
        if asked.hold_ttl_s and best is not None:
            options[0] = options[0].model_copy(update={"hold_ids": await _hold(best, asked.hold_ttl_s)})
        return self.json({"options": [o.model_dump(mode="json") for o in options],
                          "took_ms": round((time.perf_counter() - started) * 1000, 2)})


def _options(asked: OptionsRequest) -> tuple[list[ProposedOption], Decision | None]:
    now = clock.now()
    source = sourcer(live_snapshot, settings.sourcing_profile)
    found = []
    for method, promise in CHOICES:
        if method == "pickup" and asked.pickup_node is None:
            continue
        if method != "pickup" and asked.ship_to is None:
            continue
        request = SourcingRequest(
            order_id="options", method=method, promise=promise, at=now,
            lat=asked.ship_to.lat if asked.ship_to else None, lon=asked.ship_to.lon if asked.ship_to else None,
            pickup_node=asked.pickup_node,
            lines=tuple(OrderLine(line.sku, line.quantity, line.unit_cents) for line in asked.lines),
        )
        decision = source(request).decision
        if decision.outcome != "planned":
            continue
        found.append((ProposedOption(
            method=method, promise=promise, nodes=[s.node for s in decision.shipments],
            promised_at=max(s.promised_at for s in decision.shipments), cost_cents=decision.cost_cents,
        ), decision))
    found.sort(key=lambda pair: (pair[0].promised_at, pair[0].cost_cents))
    return [option for option, _ in found], (found[0][1] if found else None)


async def _hold(decision: Decision, ttl_s: float) -> list[str]:
    now = clock.now()
    reference = f"opt-{uuid.uuid4().hex[:20]}"
    ids = []
    for n, planned in enumerate(planned_holds(reference, 1, decision)):
        await publish(INVENTORY_MOVEMENTS, PlaceHold(
            event_id=f"{reference}:{n}", occurred_at=now, source_node="web", hold_id=planned.hold_id,
            order_id=reference, sku=planned.sku, node=planned.node, quantity=planned.quantity,
            expires_at=now + timedelta(seconds=ttl_s),
        ))
        live_snapshot.reserve(planned.hold_id, planned.sku, planned.node, planned.quantity)
        ids.append(planned.hold_id)
    return ids
