"""The codec: any bytes become an event or a DecodeError, and valid events survive a round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.base import Event
from streams.codec import DecodeError, decode, encode
from streams.customers import CustomerIdentifierLinked
from streams.inventory import StockChanged
from streams.orders import OrderPlaced, ShippingAddress
from streams.pos import CustomerRef, PosSale, SaleLine, Tender
from streams.pricing import PriceChanged, PromotionChanged
from streams.stock import StockLine, StockReceived, TransferShipped
from streams.topics import (
    ALL_TOPICS,
    BY_NAME,
    CUSTOMER_IDENTIFIERS,
    INVENTORY_ADJUSTMENTS,
    INVENTORY_LEDGER,
    INVENTORY_TRANSFERS,
    POS_TRANSACTIONS,
    PRICING_CHANGES,
    WEB_ORDERS,
    TopicSpec,
)

MAX_BYTES = 262_144
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROUND_TRIP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SALE: dict[str, Any] = {
    "type": "pos.sale",
    "event_id": "0193a6f4-7c1e-7b3a-9f51-2d4c8e6a1b01",
    "occurred_at": "2025-03-14T09:31:07.250+01:00",
    "source_node": "store-0042",
    "receipt_id": "R-0042-03-000981",
    "terminal_id": "T03",
    "cashier_id": "C-1187",
    "lines": [
        {"line_no": 1, "sku": "SKU-100234", "quantity": 2, "unit_price_cents": 1299},
        {"line_no": 2, "sku": "SKU-200871", "quantity": 1, "unit_price_cents": 4999, "discount_cents": 500},
    ],
    "tenders": [{"method": "card", "amount_cents": 7097}],
}
RECEIPT: dict[str, Any] = {
    "type": "stock.received",
    "event_id": "0193a5e0-0b17-7a4c-a3d9-6e81f2c7b055",
    "occurred_at": "2025-03-14T06:12:00Z",
    "source_node": "dc-north",
    "delivery_id": "DN-778120",
    "supplier_id": "SUP-0031",
    "lines": [{"sku": "SKU-100234", "quantity": 240}],
}
VALID: list[tuple[TopicSpec, dict[str, Any]]] = [(POS_TRANSACTIONS, SALE), (INVENTORY_ADJUSTMENTS, RECEIPT)]


def raw(payload: object) -> bytes:
    return json.dumps(payload).encode()


def reason_of(spec: TopicSpec, data: bytes | None, max_bytes: int = MAX_BYTES) -> str:
    with pytest.raises(DecodeError) as caught:
        decode(spec, data, max_bytes)
    return caught.value.reason


def decodes_or_says_why(spec: TopicSpec, data: bytes) -> None:
    """The codec's promise: an event, or a DecodeError with a reason; nothing else escapes."""
    try:
        event = decode(spec, data, MAX_BYTES)
    except DecodeError as err:
        assert err.reason
    else:
        assert isinstance(event, spec.events)


# --- strategies ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=12,
)
topics = st.sampled_from(ALL_TOPICS)
event_types = st.sampled_from([str(m.model_fields["type"].default) for spec in ALL_TOPICS for m in spec.events])
field_names = st.sampled_from(sorted({name for spec in ALL_TOPICS for m in spec.events for name in m.model_fields}))

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,30}", fullmatch=True)
skus = st.from_regex(r"[A-Z0-9][A-Z0-9-]{2,20}", fullmatch=True)
nodes = st.from_regex(r"[a-z][a-z0-9-]{1,20}", fullmatch=True)
# Whole-minute offsets: the encoder writes `±hh:mm` (see the sub-minute test below).
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes)))
moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=offsets)
quantities = st.integers(1, 100_000)
cents = st.integers(0, 100_000_000_000)
stock_lines = st.lists(st.builds(StockLine, sku=skus, quantity=quantities), min_size=1, max_size=5)
customers = st.builds(
    CustomerRef,
    kind=st.sampled_from(["phone", "email", "loyalty_card", "app_account", "account_id"]),
    value=st.text(min_size=3, max_size=40),
)


def envelope() -> dict[str, Any]:
    return {"event_id": ids, "occurred_at": moments, "source_node": nodes}


@st.composite
def sale_lines(draw: st.DrawFn) -> list[SaleLine]:
    count = draw(st.integers(1, 5))
    lines = []
    for line_no in range(1, count + 1):
        quantity, price = draw(quantities), draw(st.integers(0, 1_000_000))
        discount = draw(st.integers(0, quantity * price))
        lines.append(
            SaleLine(
                line_no=line_no, sku=draw(skus), quantity=quantity, unit_price_cents=price, discount_cents=discount
            )
        )
    return lines


@st.composite
def pos_sales(draw: st.DrawFn) -> PosSale:
    """A balanced sale: the net total split at random points over one to three tenders."""
    lines = draw(sale_lines())
    net = sum(line.net_cents for line in lines)
    cuts = sorted(draw(st.lists(st.integers(0, net), max_size=2)))
    amounts = [b - a for a, b in zip([0, *cuts], [*cuts, net], strict=True)]
    methods = st.sampled_from(["cash", "card", "gift_card", "voucher"])
    tenders = [Tender(method=draw(methods), amount_cents=amount) for amount in amounts]
    return draw(
        st.builds(
            PosSale,
            **envelope(),
            receipt_id=ids,
            terminal_id=ids,
            cashier_id=ids,
            customer=st.none() | customers,
            lines=st.just(lines),
            tenders=st.just(tenders),
        )
    )


@st.composite
def orders_placed(draw: st.DrawFn) -> OrderPlaced:
    delivery = draw(st.sampled_from(["ship_to_address", "pick_up_in_store", "same_day"]))
    ship_to = None
    if delivery != "pick_up_in_store":
        ship_to = ShippingAddress(
            postcode=draw(st.text(min_size=2, max_size=16)), country=draw(st.from_regex(r"[A-Z]{2}", fullmatch=True))
        )
    return draw(
        st.builds(
            OrderPlaced,
            **envelope(),
            order_id=ids,
            channel=st.sampled_from(["web", "app"]),
            customer=st.none() | customers,
            delivery=st.just(delivery),
            fulfilment_node=nodes,
            ship_to=st.just(ship_to),
            lines=sale_lines(),
            shipping_cents=cents,
        )
    )


@st.composite
def promotions(draw: st.DrawFn) -> PromotionChanged:
    starts_at = draw(moments)
    ends_at = starts_at + draw(st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=90)))
    return draw(
        st.builds(
            PromotionChanged,
            **envelope(),
            promotion_id=ids,
            skus=st.lists(skus, min_size=1, max_size=5),
            percent_off=st.integers(1, 90),
            starts_at=st.just(starts_at),
            ends_at=st.just(ends_at),
            active=st.booleans(),
        )
    )


@st.composite
def transfers(draw: st.DrawFn) -> TransferShipped:
    from_node, to_node = draw(st.lists(nodes, min_size=2, max_size=2, unique=True))
    return draw(
        st.builds(
            TransferShipped,
            **envelope(),
            transfer_id=ids,
            from_node=st.just(from_node),
            to_node=st.just(to_node),
            eta=moments,
            lines=stock_lines,
        )
    )


signed = st.integers(-(10**12), 10**12)
events: st.SearchStrategy[tuple[TopicSpec, Event]] = st.one_of(
    st.tuples(st.just(POS_TRANSACTIONS), pos_sales()),
    st.tuples(st.just(WEB_ORDERS), orders_placed()),
    st.tuples(
        st.just(INVENTORY_ADJUSTMENTS),
        st.builds(StockReceived, **envelope(), delivery_id=ids, supplier_id=ids, lines=stock_lines),
    ),
    st.tuples(st.just(INVENTORY_TRANSFERS), transfers()),
    st.tuples(
        st.just(CUSTOMER_IDENTIFIERS),
        st.builds(
            CustomerIdentifierLinked,
            **envelope(),
            known_as=customers,
            identifier=customers,
            channel=st.sampled_from(["store", "web", "app"]),
        ),
    ),
    st.tuples(
        st.just(PRICING_CHANGES),
        st.builds(
            PriceChanged, **envelope(), sku=skus, price_cents=cents, effective_from=moments, node=st.none() | nodes
        ),
    ),
    st.tuples(st.just(PRICING_CHANGES), promotions()),
    st.tuples(
        st.just(INVENTORY_LEDGER),
        st.builds(
            StockChanged,
            **envelope(),
            movement_id=ids,
            sku=skus,
            node=nodes,
            kind=st.sampled_from(["sale", "receipt", "count", "transfer_in"]),
            on_hand_delta=signed,
            damaged_delta=signed,
            on_hand_after=signed,
            damaged_after=signed,
            cause_event_id=ids,
            cause_type=st.text(max_size=30),
            movement_offset=st.integers(0, 2**63 - 1),
        ),
    ),
)


# --- properties ------------------------------------------------------------------------------


@FUZZ
@given(spec=topics, data=st.binary(max_size=400))
def test_decoding_arbitrary_bytes_raises_nothing_but_decode_error(spec: TopicSpec, data: bytes) -> None:
    decodes_or_says_why(spec, data)


@FUZZ
@given(spec=topics, value=json_values)
def test_decoding_arbitrary_json_raises_nothing_but_decode_error(spec: TopicSpec, value: object) -> None:
    decodes_or_says_why(spec, raw(value))


@FUZZ
@given(spec=topics, kind=event_types, fields=st.dictionaries(field_names, json_values, max_size=8))
def test_decoding_event_shaped_json_raises_nothing_but_decode_error(
    spec: TopicSpec, kind: str, fields: dict[str, Any]
) -> None:
    decodes_or_says_why(spec, raw({**fields, "type": kind}))


@FUZZ
@given(case=st.sampled_from(VALID), data=st.data())
def test_a_valid_event_with_one_field_replaced_decodes_or_says_why(
    case: tuple[TopicSpec, dict[str, Any]], data: st.DataObject
) -> None:
    spec, payload = case
    name = data.draw(st.sampled_from(sorted(payload)), label="field")
    decodes_or_says_why(spec, raw({**payload, name: data.draw(json_values, label="value")}))


@ROUND_TRIP
@given(case=events)
def test_a_valid_event_survives_encode_then_decode_unchanged(case: tuple[TopicSpec, Event]) -> None:
    spec, event = case
    decoded = decode(spec, encode(event), MAX_BYTES)
    assert decoded == event
    assert type(decoded) is type(event)
    assert encode(decoded) == encode(event)


def test_encoding_keeps_the_instant_of_a_timestamp_with_a_sub_minute_offset() -> None:
    lmt = timezone(timedelta(minutes=19, seconds=32))  # Amsterdam mean time, as pytz's LMT zones give it
    stamp = datetime(2025, 3, 14, 9, 31, tzinfo=lmt)
    event = PriceChanged(
        event_id="e-1", occurred_at=stamp, source_node="hq", sku="SKU-1", price_cents=100, effective_from=stamp
    )
    assert decode(PRICING_CHANGES, encode(event), MAX_BYTES).occurred_at == stamp


# --- reasons ---------------------------------------------------------------------------------


def test_valid_payloads_used_below_decode() -> None:
    for spec, payload in VALID:
        assert decode(spec, raw(payload), MAX_BYTES).event_id == payload["event_id"]


def test_a_record_that_is_not_json_is_rejected_as_invalid_json() -> None:
    assert reason_of(POS_TRANSACTIONS, b"sale,store-0042,SKU-1,2").startswith("invalid JSON:")


def test_json_that_is_not_an_object_is_rejected() -> None:
    assert "Input should be an object" in reason_of(POS_TRANSACTIONS, b"[1, 2]")


def test_a_null_value_is_rejected_as_an_empty_record() -> None:
    assert reason_of(POS_TRANSACTIONS, None) == "empty record (null value)"


def test_an_empty_value_is_rejected_as_invalid_json() -> None:
    assert reason_of(POS_TRANSACTIONS, b"").startswith("invalid JSON:")


def test_a_record_over_max_bytes_is_rejected_before_parsing() -> None:
    data = raw(SALE)
    assert decode(POS_TRANSACTIONS, data, len(data)).event_id == SALE["event_id"]
    limit = len(data) - 1
    assert reason_of(POS_TRANSACTIONS, data, limit) == f"record too large: {len(data)} bytes > limit {limit}"


def test_a_wrongly_typed_field_is_rejected_and_named() -> None:
    reason = reason_of(INVENTORY_ADJUSTMENTS, raw({**RECEIPT, "lines": [{"sku": "SKU-100234", "quantity": "two"}]}))
    assert reason.startswith("invalid event:")
    assert "stock.received.lines.0.quantity: Input should be a valid integer" in reason


def test_a_string_where_a_list_belongs_is_rejected_and_named() -> None:
    assert "pos.sale.lines: Input should be a valid array" in reason_of(POS_TRANSACTIONS, raw({**SALE, "lines": "x"}))


def test_a_negative_quantity_is_rejected_and_named() -> None:
    reason = reason_of(INVENTORY_ADJUSTMENTS, raw({**RECEIPT, "lines": [{"sku": "SKU-100234", "quantity": -3}]}))
    assert "lines.0.quantity: Input should be greater than 0" in reason


def test_an_unknown_event_type_is_rejected_and_named() -> None:
    reason = reason_of(POS_TRANSACTIONS, raw({**SALE, "type": "pos.refund"}))
    assert "'pos.refund'" in reason and "'type'" in reason


def test_a_missing_type_is_rejected_on_a_topic_with_several_event_types() -> None:
    payload = {name: value for name, value in SALE.items() if name != "type"}
    assert "discriminator 'type'" in reason_of(POS_TRANSACTIONS, raw(payload))


def test_an_event_of_another_topic_is_rejected() -> None:
    assert "'stock.received'" in reason_of(POS_TRANSACTIONS, raw(RECEIPT))


def test_a_missing_event_id_is_rejected_and_named() -> None:
    payload = {name: value for name, value in SALE.items() if name != "event_id"}
    assert "pos.sale.event_id: Field required" in reason_of(POS_TRANSACTIONS, raw(payload))


def test_an_occurred_at_without_timezone_is_rejected_and_named() -> None:
    reason = reason_of(POS_TRANSACTIONS, raw({**SALE, "occurred_at": "2025-03-14T09:31:07"}))
    assert "pos.sale.occurred_at: Input should have timezone info" in reason


def test_a_sale_whose_tenders_do_not_add_up_is_rejected() -> None:
    short = {**SALE, "tenders": [{"method": "card", "amount_cents": 7096}]}
    assert "tenders do not add up to the receipt's net total" in reason_of(POS_TRANSACTIONS, raw(short))


def test_a_reason_lists_at_most_five_failures_and_counts_the_rest() -> None:
    reason = reason_of(POS_TRANSACTIONS, raw({"type": "pos.sale"}))
    assert reason.count("Field required") == 5
    assert reason.endswith(" more)")


def test_deeply_nested_json_is_rejected_without_a_recursion_error() -> None:
    assert reason_of(POS_TRANSACTIONS, b"[" * 50_000).startswith("invalid JSON:")


def test_invalid_utf8_is_rejected_as_invalid_json() -> None:
    assert reason_of(BY_NAME["web.orders"], b'{"type": "order.placed", "order_id": "\xff"}').startswith("invalid JSON:")


def test_a_timestamp_in_utc_decodes_as_aware() -> None:
    event = decode(POS_TRANSACTIONS, raw({**SALE, "occurred_at": "2025-03-14T08:31:07Z"}), MAX_BYTES)
    assert event.occurred_at == datetime(2025, 3, 14, 8, 31, 7, tzinfo=UTC)
