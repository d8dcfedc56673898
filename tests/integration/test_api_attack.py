"""The worker's HTTP API under attack: generated and known-bad requests get 4xx JSON, never a 5xx or a traceback.

schemathesis generates requests from the worker's own `/openapi.json` (valid and invalid ones, a
bounded number per operation); without a token or with a wrong one every protected operation is
refused with 401 and no command reaches the topics; the issue's known bad inputs are sent as is.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.strategies import SearchStrategy
from kafka import KafkaConsumer, TopicPartition
from schemathesis import GenerationMode

from domain.access import POLICY
from ops.processes import get_json
from streams.codec import encode
from streams.stock import StockLine, StockReceived
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, wait_for
from views.api_spec import document

pytestmark = pytest.mark.integration
SKU, NODE, CLIENT, TOKEN = "SKU-ATTACK-1", "st-001", "attacker", "s3cret-attack-token"
AUTH = {"X-Client": CLIENT, "Authorization": f"Bearer {TOKEN}"}
EXAMPLES = 12  # per operation and mode: 19 operations x 2 modes, about a minute on two shared cores
COMMAND_TOPICS = ("inventory.movements", "loyalty.commands", "identity.requests", "pricing.baskets")
HOLD = {"hold_id": "h-bad", "order_id": "o-bad", "sku": SKU, "node": NODE, "quantity": 1}
DEEP = b"[" * 100_000 + b"]" * 100_000  # over the 64 KiB limit: 413
DEEP_UNDER_LIMIT = b"[" * 30_000 + b"]" * 30_000  # under it: the depth check's 400


def send(url: str, method: str = "GET", body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
    """(status, content type, parsed JSON or None) of one request; errors are answers, not raised."""
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, kind, raw = response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as err:
        status, kind, raw = err.code, err.headers.get("Content-Type", ""), err.read()
    try:
        return status, kind, json.loads(raw)
    except ValueError:
        return status, kind, None


def is_json_error(status: int, kind: str, parsed: Any) -> bool:
    return status < 400 or ("json" in kind and isinstance(parsed, dict) and isinstance(parsed.get("error"), str)
                            and bool(parsed["error"]))


def end_offsets(pipeline: Pipeline) -> dict[tuple[str, int], int]:
    consumer = KafkaConsumer(bootstrap_servers=pipeline.env["KAFKA_BOOTSTRAP"], group_id=None)
    try:
        names = [pipeline.prefix + t for t in COMMAND_TOPICS]
        tps = [TopicPartition(n, p) for n in names for p in sorted(consumer.partitions_for_topic(n) or ())]
        return {(tp.topic, tp.partition): end for tp, end in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def started(pipeline: Pipeline) -> str:
    """A healthy worker with every scope for CLIENT, SKU stocked, the book and snapshot loaded; its URL."""
    worker = pipeline.worker(OMNI_CLIENT_TOKENS=f"{CLIENT}:{TOKEN}:till+web+app+backoffice+operator:{NODE}",
                             OMNI_HTTP_RATE_PER_S="100000", OMNI_HTTP_RATE_BURST="100000").start()
    worker.wait_healthy()
    url = f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}"
    receipt = StockReceived(event_id="rcv-attack", occurred_at=datetime.now(UTC), source_node=NODE,
                            delivery_id="d-attack", supplier_id="s-1", lines=[StockLine(sku=SKU, quantity=7)])
    producer(pipeline.env["KAFKA_BOOTSTRAP"]).send(f"{pipeline.prefix}inventory.adjustments", key=NODE.encode(),
                                                   value=encode(receipt)).get(timeout=10)
    wait_for(lambda: stock(url), lambda s: s == 7, 60, "the receipt in the stock table")
    wait_for(lambda: send(f"{url}/pricing/book/", headers=AUTH)[2] or {}, lambda b: b.get("caught_up") is True, 60,
             "the price book loaded")
    return url


def stock(url: str) -> int | None:
    status, _, body = send(f"{url}/stock/{SKU}/", headers=AUTH)
    return body["total_on_hand"] if status == 200 else None


def run_cases(strategy: SearchStrategy[Any], examples: int, each: Callable[[Any], None]) -> None:
    @hypothesis_settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(case: Any) -> None:
        each(case)

    run()


def test_generated_requests_get_json_answers_and_never_a_server_error(pipeline: Pipeline) -> None:
    url = started(pipeline)
    assert send(f"{url}/openapi.json")[2] == json.loads(json.dumps(document())), "the served document is current"
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every route of the policy; schemathesis leaves out the document it was loaded from.
    assert {op.label for op in operations} | {"GET /openapi.json"} == {f"{m} {r}" for m, r in POLICY}
    protected = [op for op in operations if op.definition.raw.get("x-scopes")]
    failures: list[str] = []

    # Without a token, and with a wrong one: every protected operation is refused, and nothing changes.
    before, on_hand = end_offsets(pipeline), stock(url)
    for headers in ({}, {"X-Client": CLIENT, "Authorization": "Bearer not-the-token"}, {"X-Client": "nobody"}):
        for op in protected:
            def refused(case: Any, op: Any = op, headers: dict[str, str] = headers) -> None:
                response = case.call(base_url=url, headers=headers, timeout=30)
                if response.status_code != 401 or "error" not in response.json():
                    failures.append(f"{op.method.upper()} {op.path} with {sorted(headers)}: {response.status_code}")
            run_cases(op.as_strategy(GenerationMode.POSITIVE), 3, refused)
    time.sleep(1)
    assert end_offsets(pipeline) == before, "a refused request published a command"
    assert stock(url) == on_hand
    assert failures == []

    # With every scope: valid and invalid requests, none a 5xx, every error JSON with `error`.
    started_at = time.monotonic()
    statuses: dict[int, int] = {}
    for op in operations:
        def attack(case: Any, op: Any = op) -> None:
            response = case.call(base_url=url, headers=AUTH, timeout=30)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            try:
                parsed = response.json()
            except ValueError:
                parsed = None
            kind = " ".join(response.headers.get("content-type", []))  # lower-case keys, lists of values
            if response.status_code >= 500 or not is_json_error(response.status_code, kind, parsed):
                failures.append(f"{op.method.upper()} {op.path}: {response.status_code} {response.text[:200]}")
        takes_input = "{" in op.path or "requestBody" in op.definition.raw  # else nothing to make invalid
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if takes_input else (GenerationMode.POSITIVE,):
            run_cases(op.as_strategy(mode), EXAMPLES, attack)
    print(f"answers by status: {dict(sorted(statuses.items()))}")
    assert failures == [], failures[:20]
    assert statuses.get(400, 0) > 50 and sum(v for k, v in statuses.items() if k < 300) > 20, statuses
    assert time.monotonic() - started_at < 180
    assert "Traceback" not in pipeline.services[0].log_path.read_text(errors="replace")


def test_the_issues_known_bad_inputs_are_refused_as_json_without_a_traceback(pipeline: Pipeline) -> None:
    url = started(pipeline)
    before, on_hand = end_offsets(pipeline), stock(url)
    answers: dict[str, tuple[int, str, Any]] = {}
    for ttl in (b"1e12", b"1e20", b"Infinity", b"-Infinity", b"NaN", b"-5", b"0", b"1e400"):
        hold = json.dumps(HOLD).encode()[:-1] + b', "ttl_s": ' + ttl + b"}"
        answers[f"hold ttl {ttl!r}"] = send(f"{url}/holds/", "POST", hold, AUTH)
        points = b'{"request_id": "r-bad", "points": 5, "ttl_s": ' + ttl + b"}"
        answers[f"points ttl {ttl!r}"] = send(f"{url}/wallets/c-attack/holds/", "POST", points, AUTH)
    for ttl_status in answers.values():
        assert ttl_status[0] == 400, answers
    posts = [route for route, ops in document()["paths"].items() if "post" in ops]
    assert len(posts) == 10
    for route in posts:
        path = route.replace("{customer_id}", "c-attack").replace("{request_id}", "r-attack")
        answers[f"deep {route}"] = send(f"{url}{path}", "POST", DEEP, AUTH)
        answers[f"deep under limit {route}"] = send(f"{url}{path}", "POST", DEEP_UNDER_LIMIT, AUTH)
        assert answers[f"deep {route}"][0] == 413 and answers[f"deep under limit {route}"][0] == 400, answers
    answers["unknown sku"] = send(f"{url}/stock/SKU-NEVER-SEEN/", headers=AUTH)
    assert answers["unknown sku"][0] == 404
    for bad in ("-starts-with-dash", "has%20space", "x" * 200, "semi;colon"):
        answers[f"customer {bad[:20]}"] = send(f"{url}/wallets/{bad}/", headers=AUTH)
        assert answers[f"customer {bad[:20]}"][0] == 400, answers
    answers["bad sku"] = send(f"{url}/stock/lower-case/", headers=AUTH)
    assert answers["bad sku"][0] == 400
    for what, (status, kind, parsed) in answers.items():
        assert 400 <= status < 500 and is_json_error(status, kind, parsed), (what, status, parsed)
    time.sleep(1)
    assert end_offsets(pipeline) == before, "a refused request published a command"
    assert stock(url) == on_hand == 7
    assert get_json(f"{url}/health")[0] == 200
    assert "Traceback" not in pipeline.services[0].log_path.read_text(errors="replace")
