"""RocksDB sizing for a 2-core, few-GiB worker: faust's defaults assume a large server."""

from typing import Any

ROCKSDB_OPTIONS: dict[str, Any] = {
    "block_cache_size": 64 * 1024 * 1024,
    "block_cache_compressed_size": 16 * 1024 * 1024,
    "write_buffer_size": 16 * 1024 * 1024,
    "max_write_buffer_number": 2,
    "max_open_files": 256,
}
