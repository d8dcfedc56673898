"""The worker's HTTP API as an OpenAPI 3.1 document, built from the request models and the route policy.

`python -m views.api_spec` writes docs/openapi.json; `--check` fails if that file is stale (a unit
test runs it). The worker serves the same document at `GET /openapi.json` (views/openapi.py).
Bodies come from `views/requests.py`, path parameters from its patterns, who may call what from
`domain.access.POLICY` (security: the `X-Client` header and a bearer token; the scopes of each
operation in `x-scopes`). Every error answer is `{"error": <message>}`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from domain.access import POLICY
from streams.holds import HoldAnswered
from streams.loyalty import PointsAnswered
from views import requests as rq

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
REGENERATE = "python -m views.api_spec"
REF = "#/components/schemas/{model}"
ERROR = {"$ref": "#/components/schemas/Error"}
ANY_OBJECT: dict[str, Any] = {"type": "object"}


@dataclass(frozen=True)
class Operation:
    summary: str
    body: type[BaseModel] | None = None
    answers: dict[int, str] = field(default_factory=dict)  # status -> what it means (success and errors)
    answer: type[BaseModel] | None = None  # the model of the success (and 409) answers, if one


HOLD = {201: "granted", 409: "rejected (the reason says why)", 503: "the SKU's partition is behind or moving",
        504: "no answer in time"}
POINTS = {201: "granted", 409: "declined (the reason says why)", 503: "the wallet's partition is behind or moving",
          504: "no answer in time"}
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/health"): Operation("Liveness and partitions of this worker", answers={200: "ok", 503: "recovering"}),
    ("GET", "/metrics"): Operation("Prometheus metrics (text)", answers={200: "metrics"}),
    ("GET", "/openapi.json"): Operation("This document", answers={200: "the OpenAPI document"}),
    ("GET", "/stock/{sku}/"): Operation("Every node's position of a SKU (404: no stock row on its owner)",
                                        answers={200: "positions", 404: "unknown SKU"}),
    ("GET", "/pricing/book/"): Operation("The price book version this worker prices with", answers={200: "version"}),
    ("POST", "/holds/"): Operation("Place a hold on units of a SKU at a node", rq.HoldRequest, HOLD, HoldAnswered),
    ("POST", "/holds/commit/"): Operation("Commit a hold: the units left", rq.CommitHoldRequest,
                                          {200: "the hold's state", 404: "no such hold"} | HOLD, HoldAnswered),
    ("POST", "/holds/release/"): Operation("Release a hold", rq.ReleaseHoldRequest,
                                           {200: "the hold's state", 404: "no such hold"} | HOLD, HoldAnswered),
    ("GET", "/holds/{sku}/{hold_id}/"): Operation("A hold's state", answers={200: "the hold", 404: "no such hold"}),
    ("GET", "/orders/{order_id}/"): Operation("An online order's saga state", answers={200: "the order",
                                                                                       404: "no such order"}),
    ("GET", "/orders/{order_id}/sourcing/"): Operation("An order's sourcing decisions",
                                                       answers={200: "decisions", 404: "no such order or decision"}),
    ("POST", "/fulfilment/options/"): Operation("The ways to fulfil a cart now", rq.OptionsRequest,
                                                {200: "ranked options", 503: "the snapshot is loading"}),
    ("POST", "/baskets/price/"): Operation("Price a basket; with hold, hold its budgets (checkout)",
                                           rq.PriceBasketRequest, {200: "priced", 201: "priced and held",
                                                                   409: "basket sold already",
                                                                   503: "the book is loading or an owner moves"}),
    ("POST", "/pricing/leases/"): Operation("Lease a slice of a promotion's budget to a store", rq.LeaseRequest,
                                            {201: "leases", 404: "no active promotion or nothing leasable",
                                             503: "the book is loading"}),
    ("GET", "/wallets/{customer_id}/"): Operation("A customer's wallet as of now",
                                                  answers={200: "the wallet", 404: "no wallet for that customer"}),
    ("POST", "/wallets/{customer_id}/holds/"): Operation("Hold points for a transaction", rq.HoldPointsRequest,
                                                         POINTS, PointsAnswered),
    ("POST", "/wallets/{customer_id}/holds/{request_id}/capture/"): Operation(
        "Redeem held points", rq.CapturePointsRequest, {200: "the hold's state"} | POINTS, PointsAnswered),
    ("POST", "/wallets/{customer_id}/holds/{request_id}/void/"): Operation(
        "Give held points back", rq.VoidPointsRequest, {200: "the hold's state"} | POINTS, PointsAnswered),
    ("POST", "/customers/resolve/"): Operation("The customer id of an identifier", rq.ResolveRequest,
                                               {200: "the customer", 404: "no customer known by it"}),
}
REFUSALS = {400: "malformed request (body or path)", 401: "no valid client token",
            403: "outside the client's scopes", 429: "over the client's rate (Retry-After)",
            413: "body over OMNI_HTTP_MAX_BODY_BYTES"}


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    generated = model.model_json_schema(ref_template=REF, mode="validation")
    components.update(generated.pop("$defs", {}))
    components[model.__name__] = generated
    return {"$ref": REF.format(model=model.__name__)}


def _operation(method: str, route: str, op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    rule = POLICY[(method, route)]
    scopes = sorted(rule.scopes)
    out: dict[str, Any] = {
        "operationId": f"{method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', route).rstrip('_')}",
        "summary": op.summary,
        "description": (f"Needs a client with one of the scopes: {', '.join(scopes)}." if scopes else
                        "Open: no client token needed.")
                       + (" Changes state: audited." if rule.changes else "")
                       + (" Rate-limited per client." if rule.limited else ""),
        "x-scopes": scopes,
        "security": [{"client": [], "bearer": []}] if scopes else [],
    }
    params = re.findall(r"{(\w+)}", route)
    if params:
        out["parameters"] = [{"name": p, "in": "path", "required": True, "schema": rq.path_schema(p)}
                             for p in params]
    if route == "/stock/{sku}/":
        out["parameters"].append({"name": "by", "in": "query", "required": False,
                                  "schema": {"type": "string", "format": "date-time"},
                                  "description": "adds each node's ATP by this time"})
    if op.body is not None:
        out["requestBody"] = {"required": True,
                              "content": {"application/json": {"schema": _schema(op.body, components)}}}
    answer = _schema(op.answer, components) if op.answer is not None else ANY_OBJECT
    responses: dict[str, Any] = {}
    refusals = {k: v for k, v in REFUSALS.items() if scopes or k in (400, 413)}
    for status, meaning in sorted((op.answers | refusals).items()):
        if status < 300:
            schema = answer
        elif op.answer is not None and status in (404, 409) and status in op.answers:
            schema = {"allOf": [answer, ERROR]}  # the stage's answer, with an `error` saying why
        else:
            schema = ERROR
        if route == "/metrics" and status == 200:
            responses[str(status)] = {"description": meaning, "content": {"text/plain": {"schema": {"type": "string"}}}}
            continue
        responses[str(status)] = {"description": meaning, "content": {"application/json": {"schema": schema}}}
    out["responses"] = responses
    return out


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route in the policy."""
    missing = sorted(set(POLICY) - set(OPERATIONS))
    if missing:
        raise ValueError(f"routes in domain.access.POLICY without an operation here: {missing}")
    components: dict[str, Any] = {"Error": {
        "type": "object", "required": ["error"], "properties": {"error": {"type": "string"}},
        "description": "Every error answer: what was wrong, for a person to act on."}}
    paths: dict[str, Any] = {}
    for (method, route), op in sorted(OPERATIONS.items(), key=lambda item: (item[0][1], item[0][0])):
        paths.setdefault(route, {})[method.lower()] = _operation(method, route, op, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Omnistream worker HTTP API", "version": "1",
                 "description": "The worker's routes: stock, holds, orders, fulfilment, pricing, wallets and "
                                "identity. Protected routes need `X-Client: <client>` and `Authorization: Bearer "
                                "<token>`; each operation's `x-scopes` says which client scopes may call it. "
                                "Every error is JSON: {\"error\": \"...\"}. See docs/api.md."},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "client": {"type": "apiKey", "in": "header", "name": "X-Client",
                           "description": "the client's name, as configured on the worker"},
                "bearer": {"type": "http", "scheme": "bearer", "description": "the client's token"},
            },
        },
    }


def rendered() -> str:
    return json.dumps(document(), indent=2, sort_keys=False) + "\n"


def check(path: Path = DOC_PATH) -> list[str]:
    """Lines of difference between the document and `path` (empty when current)."""
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    return list(difflib.unified_diff(current.splitlines(), rendered().splitlines(), str(path), "generated",
                                     lineterm="", n=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if docs/openapi.json is not current")
    args = parser.parse_args(argv)
    if args.check:
        diff = check()
        if diff:
            print("\n".join(diff[:60]) + f"\n{DOC_PATH} is stale: run `{REGENERATE}`", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.write_text(rendered(), encoding="utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
