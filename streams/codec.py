"""JSON on the wire: encode events, decode raw bytes or say precisely why not."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from streams.base import Event
from streams.topics import TopicSpec


class DecodeError(ValueError):
    """A record that cannot become an event; `reason` goes into its dead letter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def encode(event: Event) -> bytes:
    return event.model_dump_json().encode()


def decode(spec: TopicSpec, raw: bytes | None, max_bytes: int) -> Any:
    """The event a record carries, or DecodeError. Never raises anything else."""
    if raw is None:
        raise DecodeError("empty record (null value)")
    if len(raw) > max_bytes:
        raise DecodeError(f"record too large: {len(raw)} bytes > limit {max_bytes}")
    try:
        return spec.adapter.validate_json(raw, strict=True)  # "2" is not a quantity
    except ValidationError as exc:
        raise DecodeError(_describe(exc)) from None
    except (ValueError, TypeError, RecursionError) as exc:  # pydantic-core parser edge cases
        raise DecodeError(f"unparseable: {exc}") from None


def _describe(exc: ValidationError) -> str:
    """A short reason a person can act on: the first few failing fields."""
    parts = []
    for error in exc.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "record"
        parts.append(f"{where}: {error['msg']}")
    more = exc.error_count() - len(parts)
    suffix = f" (+{more} more)" if more > 0 else ""
    kind = "invalid JSON" if exc.errors()[0]["type"] == "json_invalid" else "invalid event"
    return f"{kind}: " + "; ".join(parts) + suffix
