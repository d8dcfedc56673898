"""The HTTP audit end to end: a worker and the sink; refused and granted requests land in fct_http_request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ops.processes import get_json, post_json
from streams.codec import encode
from streams.stock import StockLine, StockReceived
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, query, wait_for

pytestmark = pytest.mark.integration
SKU, NODE = "SKU-00042", "st-042"
AUDITED = ("select client, authenticated, scopes, method, route, status from fct_http_request "  # not the
           "where route in ('/holds/', '/pricing/leases/') order by client, status")  # 503s while starting


def test_a_refused_request_and_a_granted_hold_both_land_in_fct_http_request_with_client_scopes_route_status(
    pipeline: Pipeline,
) -> None:
    worker = pipeline.worker().start()
    sink = pipeline.sink().start()
    worker.wait_healthy()
    sink.wait_healthy()
    url = f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}"
    receipt = StockReceived(event_id="rcv-audit", occurred_at=datetime.now(UTC), source_node=NODE, delivery_id="d-1",
                            supplier_id="s-1", lines=[StockLine(sku=SKU, quantity=5)])
    producer(pipeline.env["KAFKA_BOOTSTRAP"]).send(f"{pipeline.prefix}inventory.adjustments", key=NODE.encode(),
                                                   value=encode(receipt)).get(timeout=10)
    wait_for(lambda: get_json(f"{url}/stock/{SKU}/")[1], lambda b: bool(b) and b.get("total_atp") == 5, 60,
             "the receipt in the stock table")

    hold = {"hold_id": "h-audit", "order_id": "or-audit", "sku": SKU, "node": NODE, "quantity": 1, "ttl_s": 600}
    assert post_json(f"{url}/holds/", hold, {})[0] == 401  # no client at all
    assert post_json(f"{url}/holds/", hold, {"X-Client": "test-web", "Authorization": "Bearer wrong"})[0] == 401
    lease = {"store": NODE, "promotion_id": "P", "lease_no": "l-1", "uses": 1}
    assert post_json(f"{url}/pricing/leases/", lease, pipeline.headers("web"))[0] == 403  # a till-only route
    status, granted = post_json(f"{url}/holds/", hold, pipeline.headers("web"))
    assert status == 201 and granted["answer"] == "granted", granted

    rows = wait_for(lambda: query(pipeline.analytics_path, AUDITED), lambda r: len(r) >= 4, 90,
                    "four audited requests in the analysts' snapshot")
    assert rows == [
        ("", False, [], "POST", "/holds/", 401),
        ("test-web", True, ["web"], "POST", "/holds/", 201),
        ("test-web", False, [], "POST", "/holds/", 401),
        ("test-web", True, ["web"], "POST", "/pricing/leases/", 403),
    ]
    refusals = query(pipeline.analytics_path, "select client, route, status, requests from http_refusals "
                                              "order by client, status")
    assert refusals == [("", "/holds/", 401, 1), ("test-web", "/holds/", 401, 1),
                        ("test-web", "/pricing/leases/", 403, 1)]
