"""Scale: a worker restoring ~2 million sku@node positions from the stock changelog; time and memory.

Applying 2 M movements through the agent would take most of an hour here (~1 ms each), so
the state is written the way recovery reads it: one compacted changelog record per SKU,
byte for byte what the worker writes. Faust serialises a `str`-keyed table's keys as JSON
(`"SKU-000001"`, quotes included; raw bytes fail recovery with a JSON decode error), the value
is `tables.stock.put_stock`'s bytes, and the partition is the SKU's inventory.movements
partition (murmur2 over the raw SKU, as the router keys it), because Faust writes a table
change to the partition of the event being processed.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.partitioner.default import murmur2
from tqdm import tqdm

from bench.authority import base_url, new_worker, rss_mib, worker_pid
from bench.hold_result import Scale
from bench.stack import Stack
from domain.stock import Position, SkuStock
from ops.processes import Service, get_json
from streams.admin import replication
from streams.topics import STOCK_PARTITIONS

STORES, WAREHOUSES, SKUS = 100, 2, 20_000
PATTERNS = 50  # distinct on-hand patterns: SKU n has the pattern n % PATTERNS
READY_TIMEOUT_S = 900.0
RSS_SAMPLES, RSS_EVERY_S = 5, 1.0
CHECKED_SKUS = (0, 1, 7_777, SKUS - 1)
RECOVERY_ERROR = "Error in recovery"


def node_names(stores: int = STORES, warehouses: int = WAREHOUSES) -> list[str]:
    return [f"st-{n:03d}" for n in range(stores)] + [f"wh-{n + 1:02d}" for n in range(warehouses)]


def sku_name(n: int) -> str:
    return f"SKU-{n:06d}"


def on_hand(sku: int, node: int) -> int:
    return 1 + (7 * (sku % PATTERNS) + node) % 60


def partition_of(key: str, partitions: int = STOCK_PARTITIONS) -> int:
    """The partition Kafka's default (murmur2) partitioner gives `key` as raw utf-8 bytes."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def table_key(sku: str) -> bytes:
    """The stock table's key as Faust writes it to the changelog (its JSON key serializer)."""
    return json.dumps(sku).encode()


def changelog_records(skus: int, nodes: list[str]) -> Iterator[tuple[int, bytes, bytes]]:
    """(partition, key, value) of every SKU's stock-table record, every node stocked."""
    patterns = [{node: Position(on_hand=on_hand(p, j)) for j, node in enumerate(nodes)} for p in range(PATTERNS)]
    for n in range(skus):
        sku = sku_name(n)
        value = SkuStock(sku=sku, positions=patterns[n % PATTERNS]).model_dump_json().encode()
        yield partition_of(sku), table_key(sku), value


def create_compacted(stack: Stack, topic: str, partitions: int) -> None:
    """A changelog topic as Faust would create it for a table: compacted, `partitions` partitions."""
    s = stack.settings
    admin = KafkaAdminClient(bootstrap_servers=s.bootstrap.split(","), **s.security.kafka_python_kwargs())
    try:
        copies = replication(s, admin)
        admin.create_topics([NewTopic(topic, partitions, copies.factor, topic_configs={
            "cleanup.policy": "compact", "min.insync.replicas": str(copies.min_insync)})])
    finally:
        admin.close()


def write_changelog(stack: Stack, topic: str, skus: int, nodes: list[str], progress: bool) -> int:
    """Create `topic` compacted with the table's partition count and fill it; returns bytes written."""
    s = stack.settings
    create_compacted(stack, topic, STOCK_PARTITIONS)
    producer = KafkaProducer(bootstrap_servers=s.bootstrap.split(","), acks="all", linger_ms=20,
                             batch_size=512 * 1024, **s.security.kafka_python_kwargs())
    written = 0
    failures: list[Exception] = []
    try:
        for partition, key, value in tqdm(changelog_records(skus, nodes), total=skus, desc="stock changelog",
                                          unit="sku", file=sys.stderr, disable=not progress, mininterval=0.5):
            producer.send(topic, key=key, value=value, partition=partition).add_errback(failures.append)
            written += len(key) + len(value)
        producer.flush()
    finally:
        producer.close()
    if failures:
        raise RuntimeError(f"{len(failures)} changelog records not acknowledged, the first: {failures[0]!r}")
    return written


def measure_recovery(stack: Stack, progress: bool, skus: int = SKUS) -> Scale:
    """Fill the changelog, start a worker on an empty data dir, time its recovery, sample its RSS."""
    nodes = node_names()
    scale = Scale(skus=skus, nodes=len(nodes))
    t0 = time.monotonic()
    scale.changelog_bytes = write_changelog(stack, f"{stack.settings.app_id}-stock-changelog", skus, nodes, progress)
    scale.write_s = time.monotonic() - t0
    print(f"scale: {scale.positions:,} positions ({skus:,} SKUs x {len(nodes)} nodes) in "
          f"{scale.changelog_bytes / 1e6:.0f} MB of stock changelog, written in {scale.write_s:.1f} s")
    worker = new_worker(stack, "recovering-worker")
    scale.web_up_s, scale.recovery_s = start_recovering(worker)
    scale.rss_mib = peak_rss_mib(worker)
    scale.checked = sum(1 for n in CHECKED_SKUS if n < skus)
    scale.problems = check_positions(base_url(worker), nodes, skus)
    return scale


def start_recovering(worker: Service) -> tuple[float | None, float]:
    """Start `worker`; seconds until its /health first answers (503 while recovering) and until it answers 200."""
    web_up_s = None
    t0 = time.monotonic()
    worker.start()
    while True:
        if not worker.alive:
            raise RuntimeError(f"recovering worker exited; see {worker.log_path}:\n{worker.tail()}")
        if time.monotonic() - t0 > READY_TIMEOUT_S:
            raise TimeoutError(f"worker still recovering after {READY_TIMEOUT_S:.0f}s; see {worker.log_path}")
        status, _ = get_json(worker.health_url, timeout=5)
        now = time.monotonic() - t0
        failed = [line for line in worker.tail(200).splitlines() if RECOVERY_ERROR in line]
        if failed:  # Faust logs the error and keeps waiting for records it dropped: it never completes
            raise RuntimeError(f"recovery failed after {now:.1f} s: {failed[0]} (log {worker.log_path})")
        if status and web_up_s is None:
            web_up_s = now
        if status == 200:
            return web_up_s, now
        time.sleep(0.2)


def peak_rss_mib(worker: Service) -> float:
    """The largest of a few RSS samples of `worker`, one a second."""
    samples = []
    for _ in range(RSS_SAMPLES):
        samples.append(rss_mib(worker_pid(worker)) or 0.0)
        time.sleep(RSS_EVERY_S)
    return max(samples)


def check_positions(url: str, nodes: list[str], skus: int) -> list[str]:
    """GET /stock/{sku}/ for a few SKUs: every node there with the on hand written. Returns problems."""
    problems = []
    for n in (c for c in CHECKED_SKUS if c < skus):
        status, body = get_json(f"{url}/stock/{sku_name(n)}/", timeout=10)
        got = {node: p["on_hand"] for node, p in (body or {}).get("nodes", {}).items()}
        want = {node: on_hand(n, j) for j, node in enumerate(nodes)}
        if status != 200 or got != want:
            problems.append(f"{sku_name(n)}: HTTP {status}, {len(got)} of {len(want)} nodes, "
                            f"{sum(got.get(k) == v for k, v in want.items())} with the written on hand")
    return problems
