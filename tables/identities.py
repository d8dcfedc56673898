"""The identities table: hashed identifier -> its customer (domain/identity_log.py); erasure deletes."""

from __future__ import annotations

from domain.identity_log import IdentityRecord
from runtime.app import app
from runtime.batch import Pending, delete, write
from streams.topics import IDENTITY_REQUESTS
from tables.options import ROCKSDB_OPTIONS

identities_table = app.Table(
    "identities",
    key_type=str,
    value_type=bytes,
    partitions=IDENTITY_REQUESTS.partitions,
    options=ROCKSDB_OPTIONS,
)


def _read(identifier: str) -> IdentityRecord | None:
    raw = identities_table.get(identifier)
    return None if raw is None else IdentityRecord.model_validate_json(raw)


def _write(identifier: str, record: IdentityRecord | None) -> None:
    if record is None:  # erased (domain/erasure.py)
        delete(identities_table, identifier)
    else:
        write(identities_table, identifier, record.model_dump_json(exclude_defaults=True).encode())


# The stage's decided values, written at each checkpoint (runtime/batch.py).
identity_state: Pending[str, IdentityRecord | None] = Pending(_read, _write)


def get_identity(key: str) -> IdentityRecord | None:
    return identity_state.peek(key)
