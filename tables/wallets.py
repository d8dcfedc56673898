"""The wallets table: each customer's loyalty wallet, keyed by canonical customer id."""

from __future__ import annotations

from app import app
from domain.wallet import Wallet
from streams.topics import LOYALTY_COMMANDS
from tables.options import ROCKSDB_OPTIONS

wallets_table = app.Table(
    "wallets",
    key_type=str,
    value_type=bytes,
    partitions=LOYALTY_COMMANDS.partitions,
    options=ROCKSDB_OPTIONS,
)


def get_wallet(customer_id: str) -> Wallet:
    raw = wallets_table.get(customer_id)
    return Wallet(customer_id=customer_id) if raw is None else Wallet.model_validate_json(raw)


def put_wallet(wallet: Wallet) -> None:
    wallets_table[wallet.customer_id] = wallet.model_dump_json(exclude_defaults=True).encode()
