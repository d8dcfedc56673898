"""Exactly once on an at-least-once pipeline: the bookkeeping every stage wraps around its pure decision.

The domain decides from state and a command; it never sees an offset. Around each decision a
stage keeps three facts, stored with the key's value in the same changelog record (so a crash
keeps or loses them together with the state they describe):

- the **watermark**: the last source offset applied to the key. A record at or below it is a
  redelivery after a crash or rebalance: its effect is already in the state, so it is answered
  again and its outputs re-sent, never decided again;
- the **unflushed outputs**: numbers of the outputs emitted at offsets not yet acknowledged by
  Kafka, so a redelivered record re-emits what a crash may have lost (state and output are
  separate Kafka records); kept only until acknowledged, and at most `MAX_UNFLUSHED`;
- the **first offset** of each command id (a second table): the same id at a *different* offset
  is an upstream duplicate or a replay, and is answered with the state now, never applied.

These functions are that bookkeeping, pure, for any stage; the stage glues them to its domain
(for the stock authority: `tables/stock_once.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeVar

Verdict = Literal["applied", "redelivered", "duplicate"]
N = TypeVar("N")
# Enough for minutes of commit lag on the busiest key; beyond it the oldest are dropped
# (counted), which can only matter if the worker crashes before its next commit.
MAX_UNFLUSHED = 2_000


def verdict(watermark: int, offset: int, first_offset: int | None) -> Verdict:
    """What the record at `offset` is to a key whose watermark is `watermark`; `first_offset`:
    where its id was first applied (None if never, or if the command is not deduplicated by id)."""
    if offset <= watermark:
        return "redelivered"
    if first_offset is not None and first_offset != offset:
        return "duplicate"
    return "applied"


def remembered_offset(verdict: Verdict, deduped: bool, first_offset: int | None, offset: int) -> int | None:
    """What to write to the first-offset table for this record (None: nothing). A redelivered
    record writes its id again (its first offset, or its own if the crash lost the id): after a
    SIGKILL the local store may hold a write whose changelog record never reached Kafka, and only
    a new changelog record keeps it."""
    if not deduped or verdict == "duplicate":
        return None
    if verdict == "applied" or first_offset is None:
        return offset
    return first_offset


def unflushed_after(
    unflushed: Mapping[int, N], flushed_below: int, offset: int, numbers: N | None
) -> tuple[dict[int, N], int]:
    """The unflushed outputs once the record at `offset` emitted `numbers` (None: nothing),
    without those Kafka acknowledged (below `flushed_below`); and how many were dropped to the cap."""
    kept = {o: n for o, n in unflushed.items() if o >= flushed_below}
    if numbers is not None:
        kept[offset] = numbers
    dropped = max(0, len(kept) - MAX_UNFLUSHED)
    for old in sorted(kept)[:dropped]:
        del kept[old]
    return kept, dropped
