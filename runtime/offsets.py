"""Spots records a consumer never saw: an offset jump inside one partition of a plain topic."""

from __future__ import annotations

import logging

from ops.metrics import OFFSET_HOLES

log = logging.getLogger("omnistream.offsets")


class HoleDetector:
    """Our topics are neither compacted nor transactional, so offsets within a partition are
    consecutive. A forward jump means this process did not see the records in between: right
    after start-up that is Faust seeking to the committed offset past records an earlier
    process handled; at any other time it means skipped records. Both are counted."""

    def __init__(self, stage: str, rereads: bool = True) -> None:
        self.stage = stage
        self.rereads = rereads  # whether the caller reads the skipped records again (said in the log)
        self.last: dict[tuple[str, int], int] = {}

    def saw(self, topic: str, partition: int, offset: int) -> range:
        """Record `offset`; return the offsets jumped over (empty when consecutive)."""
        key = (topic, partition)
        previous = self.last.get(key)
        self.last[key] = offset
        if previous is None or offset <= previous + 1:
            return range(0)
        OFFSET_HOLES.labels(self.stage, topic).inc(offset - previous - 1)
        log.warning(
            "%s jumped over %s[%d] offsets %d..%d%s",
            self.stage, topic, partition, previous + 1, offset - 1,
            ": reading them again from Kafka" if self.rereads else " (counted only: see omnistream_offset_holes_total)",
        )
        return range(previous + 1, offset)

    def forget(self) -> None:
        """After a rebalance the next offset may legitimately be anywhere."""
        self.last.clear()
