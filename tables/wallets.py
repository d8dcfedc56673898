"""The wallets table: customers' loyalty wallets, a bucket of them per table key.

Recovery cost in Faust is per changelog record (~270 µs of CPU each, docs/loyalty.md), so a
million wallets as a million keys take minutes to recover on an empty disk. Wallets are kept in
buckets instead: the key `<partition>:<bucket>` holds a JSON object of customer id -> that
customer's wallet (JSON), ~15 wallets per bucket at a million customers. The partition in the
key is the customer's partition of `loyalty.commands` (murmur2, as Kafka keys it), and Faust
writes a table change to the partition of the record being processed (faust/tables/base.py), so
a bucket never spans partitions and moves with its partition on a rebalance.
"""

from __future__ import annotations

import json

from domain.wallet import Wallet
from runtime.app import app
from runtime.batch import Pending, write
from streams.topics import LOYALTY_COMMANDS
from tables.options import ROCKSDB_OPTIONS
from tables.wallet_buckets import bucket_of as _bucket_of
from tables.wallet_buckets import encode_bucket

wallets_table = app.Table(
    "wallets",
    key_type=str,
    value_type=bytes,
    partitions=LOYALTY_COMMANDS.partitions,
    options=ROCKSDB_OPTIONS,
)


def bucket_of(customer_id: str) -> str:
    return _bucket_of(customer_id, LOYALTY_COMMANDS.partitions)


def _bucket(key: str) -> dict[str, str]:
    raw = wallets_table.get(key)
    return {} if raw is None else dict(json.loads(raw))


def _read(customer_id: str) -> Wallet:
    raw = _bucket(bucket_of(customer_id)).get(customer_id)
    return Wallet(customer_id=customer_id) if raw is None else Wallet.model_validate_json(raw)


def put_wallet(wallet: Wallet) -> None:
    key = bucket_of(wallet.customer_id)
    bucket = _bucket(key)
    bucket[wallet.customer_id] = wallet.model_dump_json(exclude_defaults=True)
    write(wallets_table, key, encode_bucket(bucket))


def put_wallets(wallets: list[Wallet]) -> None:
    """Several wallets, each bucket read and written once (a checkpoint's changes)."""
    by_bucket: dict[str, list[Wallet]] = {}
    for wallet in wallets:
        by_bucket.setdefault(bucket_of(wallet.customer_id), []).append(wallet)
    for key, members in by_bucket.items():
        bucket = _bucket(key)
        for wallet in members:
            bucket[wallet.customer_id] = wallet.model_dump_json(exclude_defaults=True)
        write(wallets_table, key, encode_bucket(bucket))


# apply_wallet_commands' decided values, written at each checkpoint (runtime/batch.py).
wallet_state: Pending[str, Wallet] = Pending(_read, store_all=put_wallets)


def get_wallet(customer_id: str) -> Wallet:
    """The wallet as decided so far, including what the next checkpoint will write."""
    return wallet_state.peek(customer_id)
