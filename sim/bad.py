"""Records a broken producer might send, with the reason `streams.codec.decode` gives for each."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

from streams.codec import encode
from streams.pos import PosSale, SaleLine, Tender
from streams.topics import POS_TRANSACTIONS, TopicSpec

DEFAULT_MAX_BYTES = 262_144  # OMNI_MAX_EVENT_BYTES' default
# Below this limit the other bad records would fail for their size, not for their flaw.
SMALLEST_MAX_BYTES = 1_024
# Every bad record claims to come from this store's tills.
BAD_KEY = b"st-001"


class BadRecord(NamedTuple):
    """A raw value for `spec`'s topic that must be dead-lettered with `reason` in its reason."""

    spec: TopicSpec
    raw: bytes
    reason: str


def bad_records(max_bytes: int = DEFAULT_MAX_BYTES) -> list[BadRecord]:
    """One record per way of failing decode; `max_bytes` is the limit the consumer applies."""
    if max_bytes < SMALLEST_MAX_BYTES:
        raise ValueError(f"max_bytes must be at least {SMALLEST_MAX_BYTES}")
    sale = _good_sale()
    return [
        BadRecord(POS_TRANSACTIONS, b'{"type": "pos.sale", "event_id": ', "invalid JSON"),
        BadRecord(
            POS_TRANSACTIONS, _with_line(sale, quantity="three"), "lines.0.quantity: Input should be a valid integer"
        ),
        BadRecord(POS_TRANSACTIONS, _with_line(sale, quantity=-2), "lines.0.quantity: Input should be greater than 0"),
        BadRecord(POS_TRANSACTIONS, _dumps({**sale, "type": "pos.refund"}), "Input tag 'pos.refund'"),
        BadRecord(
            POS_TRANSACTIONS, _dumps({k: v for k, v in sale.items() if k != "event_id"}), "event_id: Field required"
        ),
        BadRecord(POS_TRANSACTIONS, _padded(sale, max_bytes + 1), f"record too large: {max_bytes + 1} bytes"),
    ]


def _good_sale() -> dict[str, Any]:
    """A valid till sale as a JSON object, the base every bad record breaks one way."""
    line = SaleLine(line_no=1, sku="SKU-00001", quantity=1, unit_price_cents=299)
    sale = PosSale(
        event_id="bad-00000001",
        occurred_at=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        source_node="st-001",
        receipt_id="rc-bad-00000001",
        terminal_id="st-001-t1",
        cashier_id="st-001-c01",
        lines=[line],
        tenders=[Tender(method="card", amount_cents=299)],
    )
    loaded: dict[str, Any] = json.loads(encode(sale))
    return loaded


def _with_line(sale: dict[str, Any], **changes: Any) -> bytes:
    return _dumps({**sale, "lines": [{**sale["lines"][0], **changes}]})


def _padded(sale: dict[str, Any], size: int) -> bytes:
    """A valid event, padded with trailing whitespace to `size` bytes: only its size is wrong."""
    raw = _dumps(sale)
    return raw + b" " * max(0, size - len(raw))


def _dumps(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()
