"""Dead letters: the raw record, unchanged, with why and where it failed in its headers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field

from streams.base import Event, UtcDatetime

# Kafka Connect's convention: the value and key stay byte-for-byte what was received, so a
# fixed record can be re-published as it is; the context travels in headers.
HEADER_REASON = "dlq.reason"
HEADER_TOPIC = "dlq.source.topic"
HEADER_PARTITION = "dlq.source.partition"
HEADER_OFFSET = "dlq.source.offset"
HEADER_FAILED_AT = "dlq.failed_at"
HEADER_CONSUMER = "dlq.consumer"


@dataclass(frozen=True)
class DeadLetter:
    """A record that could not be processed, where it came from and why."""

    source_topic: str
    source_partition: int
    source_offset: int
    key: bytes | None
    raw: bytes | None
    reason: str
    consumer: str
    failed_at: datetime

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            (HEADER_REASON, self.reason.encode()),
            (HEADER_TOPIC, self.source_topic.encode()),
            (HEADER_PARTITION, str(self.source_partition).encode()),
            (HEADER_OFFSET, str(self.source_offset).encode()),
            (HEADER_FAILED_AT, self.failed_at.isoformat().encode()),
            (HEADER_CONSUMER, self.consumer.encode()),
        ]

    @classmethod
    def from_record(
        cls, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> DeadLetter:
        """Reads a dead letter back from a DLQ record (tests, the replay tool, the sink)."""
        h = {name: data.decode() for name, data in headers}
        return cls(
            source_topic=h[HEADER_TOPIC],
            source_partition=int(h[HEADER_PARTITION]),
            source_offset=int(h[HEADER_OFFSET]),
            key=key,
            raw=value,
            reason=h[HEADER_REASON],
            consumer=h.get(HEADER_CONSUMER, ""),
            failed_at=datetime.fromisoformat(h[HEADER_FAILED_AT]),
        )


def now_utc() -> datetime:
    return datetime.now(UTC)


class DeadLetterNoticed(Event):
    """A record was dead-lettered: where it came from and went, why, and a masked preview.

    The `.dlq` topics keep the raw bytes for replay and are readable by the operator only; this
    notice is what everyone else (the sink, DuckDB's analysts) sees of a dead letter. `preview`
    is the record with personal data masked (`domain/redaction.py`), `raw_sha256` finds the raw
    record again in its `.dlq` topic. The `event_id` names the dead letter's place in its `.dlq`
    topic, so a notice published again is the same fact.
    """

    type: Literal["deadletter.noticed"] = "deadletter.noticed"
    dlq_topic: Annotated[str, Field(min_length=1, max_length=249)]
    dlq_partition: int = Field(ge=0)
    dlq_offset: int = Field(ge=0)
    source_topic: Annotated[str, Field(min_length=1, max_length=249)]
    source_partition: int = Field(ge=0)
    source_offset: int = Field(ge=-1)
    reason: Annotated[str, Field(max_length=2000)]
    consumer: Annotated[str, Field(max_length=200)]
    raw_bytes: int = Field(ge=0)
    raw_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    preview: Annotated[str, Field(max_length=400)]
    failed_at: UtcDatetime
