"""The loyalty benchmark's workload: customers, EarnPoints and HoldPoints commands, HTTP hold bodies. Pure.

Every command is keyed by its customer id (raw utf-8 bytes, Kafka's default murmur2
partitioner), as `loyalty.commands` requires. Earns carry fixed `points` and no return
window, so each posts exactly two ledger entries (earn: issued -> pending, mature: pending ->
available) whatever the tier rules say, and the points can be held at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from bench.holds import WireCommand
from bench.recovery import partition_of, table_key
from domain.wallet import Wallet
from domain.wallet_log import apply
from streams.codec import decode, encode
from streams.loyalty import EarnPoints, HoldPoints
from streams.topics import LOYALTY_COMMANDS
from tables.wallet_buckets import bucket_of, encode_bucket

ENTRIES_PER_EARN = 2  # earn + mature (return_window_s=0)
CLIENT, TOKEN = "bench", "bench-token"
HOLD_TTL = timedelta(hours=1)
TEMPLATE_RUN, TEMPLATE_OFFSET = "template", 987_654_321  # nine digits: no timestamp or count holds them


def customer(run: str, n: int) -> str:
    """The n-th customer of a run: `cus-` and 40 hex digits, as domain/identity.py mints them."""
    return "cus-" + hashlib.sha1(f"{run}:{n}".encode()).hexdigest()  # noqa: S324 (an id, not a secret)


def earns(run: str, first: int, count: int, customers: int, points: int,
          now: datetime | None = None) -> Iterator[WireCommand]:
    """`count` earns numbered from `first`: earn i credits `points` to customer i % `customers`."""
    now = now or datetime.now(UTC)
    for i in range(first, first + count):
        who = customer(run, i % customers)
        earn = EarnPoints(event_id=f"be-{run}-{i}", occurred_at=now, source_node="bench", customer_id=who,
                          lot_id=f"bl-{run}-{i}:1", points=points, return_window_s=0)
        yield WireCommand(who.encode(), encode(earn), earn.event_id)


def holds(run: str, first: int, count: int, customers: int, now: datetime | None = None) -> list[WireCommand]:
    """`count` one-point HoldPoints for the topic path: hold i asks customer i % `customers`."""
    now = now or datetime.now(UTC)
    commands = []
    for i in range(first, first + count):
        who = customer(run, i % customers)
        hold = HoldPoints(event_id=f"bh-{run}-{i}", occurred_at=now, source_node="bench", customer_id=who,
                          request_id=f"br-{run}-{i}", points=1, expires_at=now + HOLD_TTL, client=CLIENT)
        commands.append(WireCommand(who.encode(), encode(hold), hold.event_id))
    return commands


def http_holds(run: str, first: int, count: int, customers: int) -> list[tuple[str, dict[str, object]]]:
    """The same holds for `POST /wallets/{customer_id}/holds/`: (customer id, JSON body)."""
    return [(customer(run, i % customers), {"request_id": f"br-{run}-{i}", "points": 1,
                                            "ttl_s": HOLD_TTL.total_seconds()})
            for i in range(first, first + count)]


def wallet_records(run: str, customers: int, points: int, partitions: int,
                   now: datetime | None = None) -> Iterator[tuple[int, bytes, bytes]]:
    """(partition, key, value) of the wallets changelog after `earns(run, 0, customers, customers, points, now)`:
    one record per bucket (tables/wallet_buckets.py), each customer's wallet in it as below.

    Byte for byte what the worker writes when it applies those earns in order: the key is the
    customer id as Faust's JSON key serializer writes it, the partition the command's (murmur2
    over the raw customer id), the value `tables.wallets.put_wallet`'s bytes with
    `applied_offset` the earn's offset in its partition. Applying a million earns here would
    take minutes, so one wallet is built by `domain.wallet_log.apply` and the others are
    copies with their own customer, lot and offset, checked against `apply` for the first.
    """
    now = now or datetime.now(UTC)
    names = (b"%d" % TEMPLATE_OFFSET, customer(TEMPLATE_RUN, 0).encode(), f"bl-{TEMPLATE_RUN}-0:1".encode())
    template = wallet_after(next(earns(TEMPLATE_RUN, 0, 1, 1, points, now)), TEMPLATE_OFFSET)
    next_offset = [0] * partitions
    buckets: dict[tuple[int, str], dict[str, str]] = {}
    for i in range(customers):
        who = customer(run, i)
        partition = partition_of(who, partitions)
        offset, next_offset[partition] = next_offset[partition], next_offset[partition] + 1
        value = template
        for name, own in zip(names, (b"%d" % offset, who.encode(), f"bl-{run}-{i}:1".encode()), strict=True):
            value = value.replace(name, own)  # the offset first: a customer id may hold its digits
        if i == 0 and value != wallet_after(next(earns(run, 0, 1, customers, points, now)), offset):
            raise ValueError("a copied wallet differs from what apply makes: fix wallet_records")
        buckets.setdefault((partition, bucket_of(who, partitions)), {})[who] = value.decode()
    for (partition, key), wallets in buckets.items():  # one record per bucket, as the table keeps them
        yield partition, table_key(key), encode_bucket(wallets)


def wallet_after(earn: WireCommand, offset: int) -> bytes:
    """The wallets table's value for the earn's customer after it applied only `earn`, at `offset`."""
    command = decode(LOYALTY_COMMANDS, earn.value, 1 << 20)
    return apply(Wallet(customer_id=command.customer_id), command, offset).wallet.model_dump_json(
        exclude_defaults=True).encode()
