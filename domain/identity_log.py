"""Identity resolution's log, one hashed identifier at a time. Pure.

`identity.requests` is keyed by hashed identifier and co-partitioned with the `identities`
table (identifier -> customer). Three commands:

- `identity.purchase`: attribute a purchase to the identifier's customer (created on first
  sight: `cus-<hash>`): hop 2, `identity.attribute`, goes to the purchase's own record
  (domain/purchases.py, keyed by purchase key), which earns once the purchase is complete;
- `identity.link` (hop 1, at the known identifier): find or create its customer, then claim
  the new identifier for it;
- `identity.claim` (hop 2, at the claimed identifier): attach it, or, if it already belongs to
  another customer, merge the two by the survivor rule (domain/identity.py), say so on
  `customers.merges` and tell the merged customer's wallet (`loyalty.merge`), which moves
  into the survivor's (domain/wallet_log.py).

Every output is derived from the record and the command with deterministic ids, so a
redelivered command simply produces them again (each consumer deduplicates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.identity import customer_id_for, survivor
from domain.ids import derived_id
from streams.base import Event, Record, UtcDatetime
from streams.customers import AttributePurchase, ClaimIdentifier, CustomersMerged, IdentifyPurchase, LinkIdentifiers
from streams.loyalty import MergeWallets

IdentityCommand = IdentifyPurchase | LinkIdentifiers | ClaimIdentifier


class IdentityRecord(Record):
    customer_id: str
    since: UtcDatetime  # when the customer was first seen
    merged: dict[str, str] = {}  # customer merged away -> survivor, as this identifier saw it
    # claim event id -> (merged away, its first seen, survivor, its first seen): a redelivered
    # claim sends its merge again (the record was saved, the sends may not have been)
    merges: dict[str, tuple[str, UtcDatetime, str, UtcDatetime]] = {}


@dataclass(frozen=True)
class Step:
    record: IdentityRecord | None
    out: list[Event] = field(default_factory=list)


def resolve(record: IdentityRecord | None, command: IdentityCommand) -> Step:
    match command:
        case IdentifyPurchase():
            record = record or _new(command.identifier, command.occurred_at)
            attribute = AttributePurchase(
                event_id=derived_id(command.event_id, "attribute"), occurred_at=command.occurred_at,
                source_node=command.source_node, purchase_key=command.purchase_key, customer_id=record.customer_id,
                purchase_event_id=command.purchase_event_id, purchased_at=command.occurred_at,
                channel=command.channel, node=command.node, fulfilled=command.fulfilled, lines=command.lines,
            )
            return Step(record, [attribute])
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
    if claim.event_id in record.merges:
        return Step(record, _merge_events(claim, *record.merges[claim.event_id]))
    if record.customer_id == claim.customer_id or record.merged.get(claim.customer_id) == record.customer_id:
        return Step(record)
    keep = survivor((record.customer_id, record.since), (claim.customer_id, claim.customer_since))
    gone = claim.customer_id if keep == record.customer_id else record.customer_id
    since = min(record.since, claim.customer_since)
    sinces = {record.customer_id: record.since, claim.customer_id: claim.customer_since}
    merge = (gone, sinces[gone], keep, sinces[keep])
    updated = IdentityRecord(customer_id=keep, since=since, merged={**record.merged, gone: keep},
                             merges={**record.merges, claim.event_id: merge})
    return Step(updated, _merge_events(claim, *merge))


def _merge_events(
    claim: ClaimIdentifier, gone: str, gone_since: datetime, keep: str, keep_since: datetime
) -> list[Event]:
    merged = CustomersMerged(
        event_id=derived_id(claim.event_id, "merged"), occurred_at=claim.occurred_at, source_node="hq",
        survivor=keep, survivor_since=keep_since, merged=gone, merged_since=gone_since, identifier=claim.identifier,
    )
    wallets = MergeWallets(
        event_id=derived_id(claim.event_id, "merge-wallets"), occurred_at=claim.occurred_at, source_node="hq",
        customer_id=gone, customer_since=gone_since, other_id=keep, other_since=keep_since,
    )
    return [merged, wallets]
