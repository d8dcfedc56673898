"""A private stock authority for the hold benchmark: workers on a bench Stack, and its opening stock."""

from __future__ import annotations

import time
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from bench.e2e import publish
from bench.holds import Network, receipts
from bench.stack import READY_TIMEOUT_S, Stack
from ops import processes
from ops.processes import Service, get_json
from streams.admin import ensure_topics
from streams.topics import INVENTORY_ADJUSTMENTS, INVENTORY_LEDGER, INVENTORY_MOVEMENTS, STOCK_PARTITIONS

LOAD_TIMEOUT_S = 300.0


def base_url(service: Service) -> str:
    return service.health_url.rsplit("/", 1)[0]


def new_worker(stack: Stack, name: str) -> Service:
    """A worker with its own data dir and web port, stopped by `stack.close()`."""
    env = {**stack.env, "OMNI_DATA_DIR": str(stack.root / name), "OMNI_WEB_PORT": str(processes.free_port())}
    service = processes.worker(env, stack.root / "logs", name)
    stack.services.append(service)
    return service


def start_workers(stack: Stack, count: int) -> tuple[list[Service], float]:
    """Topics first, then `count` workers; returns them and the seconds until every SKU partition is owned."""
    ensure_topics(stack.settings)
    workers = [new_worker(stack, f"worker-{n + 1}") for n in range(count)]
    t0 = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.wait_healthy(READY_TIMEOUT_S)
    wait_owned(stack, workers)
    return workers, time.monotonic() - t0


def wait_owned(stack: Stack, workers: list[Service]) -> None:
    """Until the workers together own every inventory.movements partition and none is rebalancing."""
    want = {f"{INVENTORY_MOVEMENTS.full_name(stack.prefix)}[{p}]" for p in range(STOCK_PARTITIONS)}
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        owned: set[str] = set()
        settled = True
        for worker in workers:
            if not worker.alive:
                raise RuntimeError(f"{worker.name} exited; see {worker.log_path}:\n{worker.tail()}")
            status, body = get_json(worker.health_url)
            settled = settled and status == 200 and not body.get("rebalancing")
            owned |= set(body.get("assigned", [])) if status == 200 else set()
        if settled and want <= owned:
            return
        time.sleep(0.5)
    raise TimeoutError(f"SKU partitions not all owned after {READY_TIMEOUT_S}s; see {stack.root / 'logs'}")


def load_stock(stack: Stack, network: Network, workers: list[Service], progress: bool) -> float:
    """Receive `network.units` of every SKU at every node; returns seconds until all are applied.

    Applied is read from the ledger's end offsets: one entry per applied movement.
    """
    settings = stack.settings
    t0 = time.monotonic()
    publish(settings, [(INVENTORY_ADJUSTMENTS, k, v) for k, v in receipts(network, stack.run)], progress)
    ledger = INVENTORY_LEDGER.full_name(stack.prefix)
    offsets = KafkaConsumer(bootstrap_servers=settings.bootstrap.split(","), enable_auto_commit=False,
                            **settings.security.kafka_python_kwargs())
    partitions = [TopicPartition(ledger, p) for p in range(INVENTORY_LEDGER.partitions)]
    try:
        while sum(offsets.end_offsets(partitions).values()) < network.positions:
            if time.monotonic() - t0 > LOAD_TIMEOUT_S:
                raise TimeoutError(f"opening stock not applied after {LOAD_TIMEOUT_S:.0f}s")
            if trouble(workers):
                raise RuntimeError(trouble(workers))
            time.sleep(0.25)
    finally:
        offsets.close()
    return time.monotonic() - t0


def trouble(workers: list[Service]) -> str | None:
    dead = [w.name for w in workers if not w.alive]
    return f"{', '.join(dead)} exited (logs in {workers[0].log_path.parent})" if dead else None


def rss_mib(pid: int) -> float | None:
    """Resident set size of `pid` in MiB, from /proc/<pid>/status."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB
    return None


def worker_pid(worker: Service) -> int:
    assert worker.proc is not None
    return worker.proc.pid
