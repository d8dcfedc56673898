"""Ids derived from other ids, deterministically, so a replay derives the very same ones."""

from __future__ import annotations

import hashlib

EVENT_ID_MAX = 100


def derived_id(base: str, suffix: str, limit: int = EVENT_ID_MAX) -> str:
    """`<base>:<suffix>`, or a digest of it when that is too long for an id."""
    plain = f"{base}:{suffix}"
    if len(plain) <= limit:
        return plain
    return f"d-{hashlib.sha256(plain.encode()).hexdigest()[:40]}:{suffix}"[:limit]
