"""The base every event shares: identity, time, origin and version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

# Identifiers travel as Kafka keys and DuckDB keys: keep them short, printable and unambiguous.
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,159}$")]
# An event id leaves room for the `:<line>` suffix of the movements derived from it.
EventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,99}$")]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{2,39}$")]
NodeId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,39}$")]
Quantity = Annotated[int, Field(gt=0, le=100_000)]
Cents = Annotated[int, Field(ge=0, le=100_000_000_000)]


def _to_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# Timezone-aware on the wire, UTC inside: an offset like +00:19:32 survives encoding intact.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class Record(BaseModel):
    """A frozen value object that rejects unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Event(Record):
    """Something that happened, as its producer saw it.

    `event_id` is minted once by the producer and kept across retries: it is the idempotency
    key every consumer deduplicates on. `source_node` is the store, warehouse or channel
    (`web`, `app`) that published it.
    """

    event_id: EventId
    occurred_at: UtcDatetime
    source_node: NodeId
    schema_version: int = Field(default=1, ge=1, le=1)
