"""Identity resolution's log, one hashed identifier at a time. Pure.

`identity.requests` is keyed by hashed identifier and co-partitioned with the `identities`
table (identifier -> customer). Three commands:

- `identity.purchase`: attribute a purchase to the identifier's customer (created on first
  sight: `cus-<hash>`) and earn its points: one `loyalty.earn` per line, lot id
  `<purchase event id>:<line no>`, so the wallet credits each line once however often this
  runs;
- `identity.link` (hop 1, at the known identifier): find or create its customer, then claim
  the new identifier for it;
- `identity.claim` (hop 2, at the claimed identifier): attach it, or, if it already belongs to
  another customer, merge the two by the survivor rule (domain/identity.py) and say so.

Every output is derived from the record and the command with deterministic ids, so a
redelivered command simply produces them again (each consumer deduplicates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.identity import customer_id_for, survivor
from domain.ids import derived_id
from domain.loyalty_rules import EarnRules, points_for_line
from streams.base import Event, Record, UtcDatetime
from streams.customers import ClaimIdentifier, CustomersMerged, IdentifyPurchase, LinkIdentifiers
from streams.loyalty import EarnPoints

IdentityCommand = IdentifyPurchase | LinkIdentifiers | ClaimIdentifier


class IdentityRecord(Record):
    customer_id: str
    since: UtcDatetime  # when the customer was first seen
    merged: dict[str, str] = {}  # customer merged away -> survivor, as this identifier saw it


@dataclass(frozen=True)
class Step:
    record: IdentityRecord | None
    out: list[Event] = field(default_factory=list)


def resolve(
    record: IdentityRecord | None, command: IdentityCommand, rules: EarnRules, return_window: timedelta
) -> Step:
    match command:
        case IdentifyPurchase():
            record = record or _new(command.identifier, command.occurred_at)
            return Step(record, _earn(record.customer_id, command, rules, return_window))
        case LinkIdentifiers():
            record = record or _new(command.known, command.occurred_at)
            claim = ClaimIdentifier(
                event_id=derived_id(command.event_id, "claim"), occurred_at=command.occurred_at,
                source_node=command.source_node, identifier=command.identifier,
                customer_id=record.customer_id, customer_since=record.since,
            )
            return Step(record, [] if command.identifier == command.known else [claim])
        case ClaimIdentifier():
            return _claim(record, command)


def _new(identifier: str, at: datetime) -> IdentityRecord:
    return IdentityRecord(customer_id=customer_id_for(identifier), since=at)


def _claim(record: IdentityRecord | None, claim: ClaimIdentifier) -> Step:
    if record is None:
        return Step(IdentityRecord(customer_id=claim.customer_id, since=claim.customer_since))
    if record.customer_id == claim.customer_id or record.merged.get(claim.customer_id) == record.customer_id:
        return Step(record)
    keep = survivor((record.customer_id, record.since), (claim.customer_id, claim.customer_since))
    gone = claim.customer_id if keep == record.customer_id else record.customer_id
    since = min(record.since, claim.customer_since)
    merged = CustomersMerged(
        event_id=derived_id(claim.event_id, "merged"), occurred_at=claim.occurred_at, source_node="hq",
        survivor=keep, merged=gone, identifier=claim.identifier,
    )
    updated = IdentityRecord(customer_id=keep, since=since, merged={**record.merged, gone: keep})
    return Step(updated, [merged])


def _earn(customer_id: str, purchase: IdentifyPurchase, rules: EarnRules, window: timedelta) -> list[Event]:
    out: list[Event] = []
    for line in purchase.lines:
        points = points_for_line(line.net_cents, line.sku, "base", rules)
        if points <= 0:
            continue
        out.append(EarnPoints(
            event_id=derived_id(purchase.event_id, f"earn:{line.line_no}"), occurred_at=purchase.occurred_at,
            source_node=purchase.source_node, customer_id=customer_id,
            lot_id=f"{purchase.purchase_event_id}:{line.line_no}", points=points,
            return_window_s=int(window.total_seconds()),
        ))
    return out
