"""A dead letter as others may see it: the raw bytes' size, digest and a preview with personal data masked.

Dead-letter topics keep the raw bytes for replay, readable by the operator principal only. The
stage that dead-letters a record also publishes a notice of it (`streams.deadletter.notice_of`,
topic `ops.dead-letter-notices`) with only what this module leaves: the sink, the dashboard and
DuckDB's analysts read that, never the raw bytes. The preview masks anything that could identify
a person:

- JSON: the structure, keys and harmless values stay; every string in a field that names a
  person or an identifier (`value` of a customer reference, `email`, `phone`, `device_id`,
  `name`, ...) becomes `[masked]`; in every other string, e-mail addresses become `[email]` and
  runs of 8 or more digits (phone and card numbers, with spaces, dashes or dots between) become
  `[number]` (dates excepted, and our own ids and times, `event_id`, `sku`, `receipt_id`, ...,
  keep their digits); integers of 8 or more digits become `"[number]"`;
- anything else (broken or truncated JSON, other bytes): the same text rules, plus the value after
  a known field name (`"email": "…`) masked up to its closing quote or the end.

It errs towards masking: a SKU or id with 8 digits in a row is masked too.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from streams.deadletter import DeadLetter, DeadLetterNoticed

PREVIEW_CHARS = 400
MASK, EMAIL, NUMBER = "[masked]", "[email]", "[number]"
PERSONAL_FIELDS = frozenset({
    "value", "email", "e_mail", "phone", "mobile", "telephone", "name", "first_name", "last_name", "full_name",
    "customer_name", "address", "street", "postcode", "postal_code", "zip", "birth_date", "date_of_birth",
    "device_id", "card", "card_number", "loyalty_card", "account_id", "app_account", "iban", "known_as_value",
    "dob", "addr", "ident", "identifier", "surname", "given_name", "ssn", "passport", "tax_id", "ip", "ip_address",
})
# Our own ids and times: their digits are not personal (an e-mail address in them still is).
OWN_FIELDS = frozenset({
    "type", "event_id", "occurred_at", "source_node", "sku", "receipt_id", "order_id", "terminal_id", "transfer_id",
    "hold_id", "promotion_id", "purchase_key", "node", "requested_at", "failed_at",
})
# Starts only where a token starts (the lookbehind): a long text without "@" is scanned once, not
# once per character (quadratic: a 300 KB dead letter held the router for minutes).
_EMAIL = re.compile(r"(?<![^\s\"'<>@,;:])[^\s\"'<>@,;:]+@[^\s\"'<>,;:]*")
MASKED_CHARS = 4 * PREVIEW_CHARS  # more of a string than a preview shows is never masked: it is cut first
_NUMBER = re.compile(r"(?!\d{4}-\d\d-\d\d)\+?\d(?:[\s\-./()]?\d){7,}")  # not a date
_FIELD_VALUE = re.compile(r'("(?:' + "|".join(sorted(PERSONAL_FIELDS)) + r')"\s*:\s*")((?:[^"\\]|\\.)*)',
                          re.IGNORECASE)


def digest(raw: bytes | None) -> str:
    """SHA-256 of the raw bytes: finds the dead letter again in its topic, reveals nothing."""
    return hashlib.sha256(raw or b"").hexdigest()


def preview(raw: bytes | None) -> str:
    """The record with personal data masked, at most PREVIEW_CHARS characters."""
    if not raw:
        return ""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        text = raw[:MASKED_CHARS].decode("utf-8", "replace")
        return _truncate(mask_text(_FIELD_VALUE.sub(lambda m: m.group(1) + MASK, text)))
    return _truncate(json.dumps(_masked(document, personal=False), ensure_ascii=False, separators=(",", ":")))


def mask_text(text: str, numbers: bool = True) -> str:
    """E-mail addresses and (unless `numbers` is False) phone- or card-like digit runs masked."""
    text = text[:MASKED_CHARS] if len(text) > MASKED_CHARS else text
    text = _EMAIL.sub(EMAIL, text)
    return _NUMBER.sub(NUMBER, text) if numbers else text


def _masked(value: Any, personal: bool, own: bool = False) -> Any:
    if isinstance(value, dict):
        return {mask_text(str(k)): _masked(v, personal or str(k).lower() in PERSONAL_FIELDS, str(k) in OWN_FIELDS)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, personal) for v in value]
    if personal and value is not None:
        return MASK
    if isinstance(value, str):
        return mask_text(value, numbers=not own)
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 10_000_000:
        return NUMBER
    return value


def _truncate(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


def notice_of(letter: DeadLetter, dlq_topic: str, dlq_partition: int, dlq_offset: int) -> DeadLetterNoticed:
    """What others than the operator may see of a dead letter: no raw bytes, personal data masked."""
    return DeadLetterNoticed(
        event_id=f"dlq:{dlq_topic}:{dlq_partition}:{dlq_offset}"[:100], occurred_at=letter.failed_at,
        source_node="ops", dlq_topic=dlq_topic, dlq_partition=dlq_partition, dlq_offset=dlq_offset,
        source_topic=letter.source_topic, source_partition=letter.source_partition,
        source_offset=letter.source_offset, reason=mask_text(letter.reason)[:2000],
        consumer=letter.consumer[:200], raw_bytes=len(letter.raw or b""), raw_sha256=digest(letter.raw),
        preview=preview(letter.raw), failed_at=letter.failed_at,
    )
