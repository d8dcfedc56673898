"""Which bucket of the wallets table holds a customer's wallet (tables/wallets.py). Pure, so the
benchmark's changelog writer lays wallets out exactly as the worker does."""

from __future__ import annotations

import json

from aiokafka.partitioner import murmur2

BUCKETS_PER_PARTITION = 16_384


def bucket_of(customer_id: str, partitions: int) -> str:
    """`<partition>:<bucket>`: the customer's partition of loyalty.commands (murmur2, as Kafka keys
    it) and a bucket within it."""
    h = murmur2(customer_id.encode()) & 0x7FFFFFFF
    return f"{h % partitions}:{(h // partitions) % BUCKETS_PER_PARTITION}"


def encode_bucket(wallets: dict[str, str]) -> bytes:
    """customer id -> wallet JSON, as the table stores a bucket."""
    return json.dumps(wallets, separators=(",", ":")).encode()
