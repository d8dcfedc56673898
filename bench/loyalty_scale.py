"""Scale: a million customers hold wallets; a worker restarted on an empty disk recovers them. Time and memory.

Two ways to make the wallets (`via`):
- "changelog" (default): the wallets changelog is written the way recovery reads it, one
  compacted record per customer, byte for byte what a worker writes after applying one
  EarnPoints for each (`bench.loyalty_workload.wallet_records`, checked against a real worker's
  changelog), as bench/recovery.py does for stock, in aiokafka batches: a minute or two.
- "earns": the way production makes them: one EarnPoints per customer produced straight to
  `loyalty.commands` (keyed by customer id) and applied by a worker, timed by the ledger's end
  offsets (one PointsPosted per earn); that worker is then stopped cleanly. At the ~500
  earns/s a contended worker manages here, a million take over half an hour.
Then a new worker, on an empty data dir in the same consumer group, restores the wallets
table from the changelog: `recovery_s` runs from its start until its /health answers 200
(Faust's recovery completed), and a few wallets are read back over HTTP.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from tqdm import tqdm

from bench.authority import base_url, new_worker, rss_mib, start_workers, trouble, worker_pid
from bench.cpu import cpu_seconds
from bench.e2e import publish
from bench.loyalty_ledger import ledger, wallets_changelog
from bench.loyalty_result import WalletScale
from bench.loyalty_sched import run_queue_s
from bench.loyalty_workload import customer, earns, wallet_records
from bench.recovery import create_compacted, peak_rss_mib, start_recovering
from bench.stack import Stack
from ops.processes import get_json
from settings import Settings
from streams.topics import LOYALTY_COMMANDS

CUSTOMERS = 1_000_000
POINTS = 100
CHUNK = 50_000  # earns encoded and published at a time (a million at once is ~0.5 GB here)
LOAD_TIMEOUT_S = 3_600.0
STOP_TIMEOUT_S = 120.0
VIAS = ("changelog", "earns")
BATCH_BYTES = 512 * 1024  # below the broker's default message.max.bytes (1 MiB)


def checked_customers(customers: int) -> list[int]:
    return sorted({0, 1, customers // 2, customers - 1} & set(range(customers)))


def load_wallets(stack: Stack, customers: int, progress: bool) -> WalletScale:
    """One worker applies one earn for each of `customers` customers; stopped once all are applied."""
    scale = WalletScale(customers=customers, via="earns")
    services, start_s = start_workers(stack, 1)
    worker, watch = services[0], lambda: trouble(services)
    print(f"scale: worker ready in {start_s:.1f} s; publishing {customers:,} earns, one a customer")
    offsets = ledger(stack.settings)
    try:
        base = offsets.total()
        t0 = time.monotonic()
        for first in range(0, customers, CHUNK):
            chunk = earns(stack.run, first, min(CHUNK, customers - first), customers, POINTS)
            publish(stack.settings, [(LOYALTY_COMMANDS, c.key, c.value) for c in chunk], progress and first == 0)
            if problem := watch():
                raise RuntimeError(problem)
        print(f"scale: {customers:,} earns published in {time.monotonic() - t0:.1f} s")
        done = offsets.wait_for(base + customers, LOAD_TIMEOUT_S, watch, progress, "wallets applied", base)
        scale.load_s = done - t0
    finally:
        offsets.close()
    scale.loaded_rss_mib = rss_mib(worker_pid(worker))
    print(f"scale: {customers:,} wallets applied in {scale.load_s:.1f} s ({scale.load_entries_per_s} entries/s), "
          f"worker RSS {scale.loaded_rss_mib or 0:.0f} MiB; stopping it")
    worker.stop(timeout_s=STOP_TIMEOUT_S)
    if worker.returncode() != 0:
        scale.problems.append(f"the loading worker exited with {worker.returncode()} (log {worker.log_path})")
    changelog = wallets_changelog(stack.settings)
    try:
        scale.changelog_records = changelog.total()
    finally:
        changelog.close()
    scale.changelog_bytes = stack.topic_bytes().get(f"{stack.settings.app_id}-wallets-changelog")
    return scale


def write_wallets(stack: Stack, customers: int, progress: bool) -> WalletScale:
    """The wallets changelog a worker would leave after one earn per customer, written straight to Kafka."""
    scale = WalletScale(customers=customers, via="changelog")
    topic = f"{stack.settings.app_id}-wallets-changelog"
    t0 = time.monotonic()
    create_compacted(stack, topic, LOYALTY_COMMANDS.partitions)
    records = tqdm(wallet_records(stack.run, customers, POINTS, LOYALTY_COMMANDS.partitions), total=customers,
                   desc="wallets changelog", unit="wallet", file=sys.stderr, disable=not progress, mininterval=0.5)
    scale.changelog_bytes = asyncio.run(send_batches(stack.settings, topic, records))
    scale.load_s = time.monotonic() - t0
    changelog = wallets_changelog(stack.settings)
    try:
        scale.changelog_records = changelog.total()
    finally:
        changelog.close()
    return scale


async def send_batches(settings: Settings, topic: str, records: Iterable[tuple[int, bytes, bytes]]) -> int:
    """Write (partition, key, value) records in batches of BATCH_BYTES a partition (kafka-python's per-record
    send manages ~3,000 records/s here); returns the bytes written."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, acks="all", max_batch_size=BATCH_BYTES,
                                **settings.security.aiokafka_kwargs())
    await producer.start()
    written, sent = 0, []
    try:
        batches = {p: producer.create_batch() for p in range(LOYALTY_COMMANDS.partitions)}
        for partition, key, value in records:
            if batches[partition].append(key=key, value=value, timestamp=None) is None:  # full: send, start anew
                sent.append(await producer.send_batch(batches[partition], topic, partition=partition))
                batches[partition] = producer.create_batch()
                batches[partition].append(key=key, value=value, timestamp=None)
            written += len(key) + len(value)
        for partition, batch in batches.items():
            if batch.record_count():
                sent.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sent)  # every batch acknowledged, or the error
    finally:
        await producer.stop()
    return written


def measure_wallet_recovery(stack: Stack, progress: bool, customers: int = CUSTOMERS,
                            via: str = "changelog") -> WalletScale:
    make = write_wallets if via == "changelog" else load_wallets
    scale = make(stack, customers, progress)
    print(f"scale: wallets changelog {scale.changelog_records:,} records, {(scale.changelog_bytes or 0) / 1e6:.0f} MB "
          f"(by {via}, {scale.load_s:.1f} s); starting a worker on an empty data dir")
    recovering = new_worker(stack, "recovering-worker")
    scale.web_up_s, scale.recovery_s = start_recovering(recovering)
    pid = worker_pid(recovering)  # a new process: its totals so far are the recovery's
    scale.recovery_cpu_s, scale.recovery_run_queue_s = cpu_seconds(pid), run_queue_s(pid)
    scale.rss_mib = peak_rss_mib(recovering)
    scale.problems += check_wallets(base_url(recovering), stack.run, customers)
    scale.checked = len(checked_customers(customers))
    return scale


def check_wallets(url: str, run: str, customers: int) -> list[str]:
    """GET /wallets/{customer_id}/ for a few customers: each has its earn available. Returns problems."""
    problems = []
    for n in checked_customers(customers):
        who = customer(run, n)
        status, body = get_json(f"{url}/wallets/{who}/", timeout=10)
        if status != 200 or (body or {}).get("available") != POINTS:
            problems.append(f"{who}: HTTP {status}, available {(body or {}).get('available')} (want {POINTS})")
    return problems
