"""The OpenAPI document: current on disk, every route of the policy, bodies from the request models."""

from __future__ import annotations

from domain.access import POLICY
from views.api_spec import check, document, main


def test_docs_openapi_json_is_current() -> None:
    assert check() == [], "docs/openapi.json is stale: run `python -m views.api_spec`"
    assert main(["--check"]) == 0


def test_every_route_of_the_policy_is_an_operation_with_its_scopes() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1")
    operations = {(m.upper(), route): op for route, ops in doc["paths"].items() for m, op in ops.items()}
    assert set(operations) == set(POLICY)
    for key, op in operations.items():
        assert op["x-scopes"] == sorted(POLICY[key].scopes)
        assert bool(op["security"]) == bool(POLICY[key].scopes)
        if POLICY[key].scopes:
            assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"}


def test_every_post_documents_its_body_from_a_request_model() -> None:
    doc = document()
    schemas = doc["components"]["schemas"]
    for route, ops in doc["paths"].items():
        if "post" in ops:
            ref = ops["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert schemas[ref.rsplit("/", 1)[1]]["additionalProperties"] is False, route
    hold = schemas["HoldRequest"]
    assert set(hold["required"]) == {"hold_id", "order_id", "sku", "node", "quantity"}
    assert hold["properties"]["ttl_s"]["exclusiveMinimum"] == 0 and hold["properties"]["ttl_s"]["maximum"] > 0


def test_path_parameters_carry_the_id_patterns() -> None:
    params = document()["paths"]["/wallets/{customer_id}/"]["get"]["parameters"]
    assert params[0]["name"] == "customer_id" and params[0]["schema"]["pattern"].startswith("^[A-Za-z0-9]")
