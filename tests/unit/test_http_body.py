"""The strict body reader and request models refuse the issue's malformed inputs, quickly and without recursion."""

from __future__ import annotations

import json
import time

import pytest

from views.body import MAX_DEPTH, BodyError, nesting_depth, parse_object, validate
from views.requests import MAX_TTL_S, HoldPointsRequest, HoldRequest, PriceBasketRequest, path_error

HOLD = {"hold_id": "h-1", "order_id": "o-1", "sku": "SKU-001", "node": "st-001", "quantity": 1}


def hold_with_ttl(ttl: str) -> bytes:
    return json.dumps(HOLD).encode()[:-1] + b', "ttl_s": ' + ttl.encode() + b"}"


@pytest.mark.parametrize("ttl", ["1e12", "1e20", "Infinity", "-Infinity", "NaN", "-5", "0", "1e400",
                                 str(MAX_TTL_S + 1), '"600"'])
def test_a_hold_ttl_that_is_not_finite_positive_and_bounded_is_refused(ttl: str) -> None:
    with pytest.raises(BodyError):
        validate(HoldRequest, hold_with_ttl(ttl))
    with pytest.raises(BodyError):
        validate(HoldPointsRequest, b'{"request_id": "r-1", "points": 5, "ttl_s": ' + ttl.encode() + b"}")


def test_a_well_formed_hold_is_read_with_its_ttl() -> None:
    asked = validate(HoldRequest, hold_with_ttl("600"))
    assert (asked.sku, asked.quantity, asked.ttl_s) == ("SKU-001", 1, 600.0)
    assert validate(HoldRequest, json.dumps(HOLD).encode()).ttl_s == 900.0


def test_a_hundred_thousand_deep_array_is_refused_in_milliseconds_without_recursion() -> None:
    started = time.perf_counter()
    for raw in (b"[" * 100_000 + b"]" * 100_000, b"[" * 100_000, b'{"a":' * 50_000):
        with pytest.raises(BodyError, match="nested deeper"):
            parse_object(raw)
    assert time.perf_counter() - started < 0.5


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert nesting_depth(b'{"a": "[[[[[[[[[[\\"[[[[", "b": [1, [2]]}') == 3
    assert parse_object(b'{"note": "' + b"[" * (MAX_DEPTH * 3) + b'"}')["note"].startswith("[[")


@pytest.mark.parametrize("raw, why", [
    (b"[1, 2]", "object at the top"), (b'"text"', "object at the top"), (b"{", "not JSON"),
    (b'{"a": 1, "a": 2}', "appears twice"), (b"\xff\xfe", "UTF-8"), (b'{"a": NaN}', "finite"),
    (b'{"a": 1' + b"0" * 5000 + b"}", "not JSON"),
])
def test_malformed_json_is_refused_with_a_reason(raw: bytes, why: str) -> None:
    with pytest.raises(BodyError, match=why):
        parse_object(raw)


def test_unknown_fields_and_coerced_types_are_refused() -> None:
    with pytest.raises(BodyError, match="Extra inputs"):
        validate(HoldRequest, json.dumps({**HOLD, "expires_at": "2030-01-01T00:00:00Z"}).encode())
    with pytest.raises(BodyError, match="quantity"):
        validate(HoldRequest, json.dumps({**HOLD, "quantity": "2"}).encode())


def test_the_error_names_the_field_and_never_echoes_the_value() -> None:
    with pytest.raises(BodyError) as refused:
        validate(HoldRequest, json.dumps({**HOLD, "sku": "secret-value-lowercase"}).encode())
    assert "sku" in str(refused.value) and "secret-value" not in str(refused.value)


def test_a_basket_request_reads_as_the_pricing_body() -> None:
    asked = validate(PriceBasketRequest, b'{"basket_id": "b-1", "lines": [{"line_no": 1, "sku": "SKU-001", '
                                         b'"quantity": 2}], "coupon_codes": ["WELCOME"]}')
    assert asked.as_dict() == {"basket_id": "b-1", "lines": [{"line_no": 1, "sku": "SKU-001", "quantity": 2}],
                               "channel": "web", "node": "web", "currency": "EUR", "coupon_codes": ["WELCOME"],
                               "shipping_cents": 0, "hold": False, "offline": False}


def test_malformed_path_parameters_are_named() -> None:
    assert path_error(customer_id="c-42", sku="SKU-001") is None
    assert "customer_id" in (path_error(customer_id="-dash-first") or "")
    assert "customer_id" in (path_error(customer_id="x" * 200) or "")
    assert "sku" in (path_error(sku="lower-case") or "")


def test_the_depth_scan_of_an_unterminated_string_is_linear() -> None:
    import time

    from views.body import nesting_depth

    started = time.process_time()
    assert nesting_depth(b'"' + b'\\"' * 32_000) == 0
    assert nesting_depth(b"[" + b'"' + b"x" * 60_000) == 1
    assert time.process_time() - started < 1.0  # CPU seconds; quadratic, it took 19 s
