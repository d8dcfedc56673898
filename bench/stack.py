"""One private Omnistream for a benchmark: its own topics, app id, state, DuckDB and ports."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka.admin import KafkaAdminClient

from ops import processes
from ops.processes import Service, get_json
from settings import Settings
from streams.admin import ensure_topics

READY_TIMEOUT_S = 120.0


BENCH_CLIENT = "bench"
BENCH_RATE_PER_S = 1_000_000  # a throughput bench measures the worker, not the rate limit


def bench_client_env(token: str) -> dict[str, str]:
    """The bench's client: the workers accept it (scope operator: every route, every store, at
    BENCH_RATE_PER_S), and this process and its children send it (OMNI_HTTP_CLIENT/TOKEN)."""
    return {"OMNI_CLIENT_TOKENS": f"{BENCH_CLIENT}:{token}:operator", "OMNI_HTTP_CLIENT": BENCH_CLIENT,
            "OMNI_HTTP_TOKEN": token, "OMNI_HTTP_RATE_PER_S": str(BENCH_RATE_PER_S),
            "OMNI_PEER_TOKEN": f"peer-{token}"}


def one_copy_bytes(described: list[dict[str, Any]], prefixes: tuple[str, ...]) -> dict[str, int]:
    """Per topic named with one of `prefixes`: the sum over its partitions of the largest replica, so
    that a topic with three copies on a cluster counts its bytes once, as on one broker."""
    largest: dict[tuple[str, int], int] = {}
    for broker in described:
        for log_dir in broker["log_dirs"]:
            for topic in log_dir["topics"]:
                if topic["name"].startswith(prefixes):
                    for p in topic["partitions"]:
                        key = (topic["name"], p["partition_index"])
                        largest[key] = max(largest.get(key, 0), p["partition_size"])
    sizes: dict[str, int] = {}
    for (name, _), size in largest.items():
        sizes[name] = sizes.get(name, 0) + size
    return sizes


@dataclass
class Stack:
    """Like tests/conftest.py's `pipeline` fixture, outside pytest."""

    run: str
    root: Path
    env: dict[str, str]
    services: list[Service] = field(default_factory=list)
    saved_env: dict[str, str | None] = field(default_factory=dict)  # this process's values before create()

    @classmethod
    def create(cls, bootstrap: str) -> Stack:
        run = uuid.uuid4().hex[:8]
        root = Path(tempfile.mkdtemp(prefix=f"omni-bench-{run}-"))
        env = {
            "KAFKA_BOOTSTRAP": bootstrap,
            "OMNI_TOPIC_PREFIX": f"bench{run}.",
            "OMNI_APP_ID": f"omni-bench-{run}",
            "OMNI_DATA_DIR": str(root / "worker"),
            "OMNI_WEB_PORT": str(processes.free_port()),
            "OMNI_DUCKDB_PATH": str(root / "duckdb" / "omnistream.duckdb"),
            "OMNI_SINK_PORT": str(processes.free_port()),
            "LOG_LEVEL": "INFO",
            **bench_client_env(secrets.token_urlsafe(18)),
        }
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)  # this process's own clients (publisher, floor) see the same
        return cls(run=run, root=root, env=env, saved_env=saved)

    @property
    def settings(self) -> Settings:
        return Settings.from_env()

    @property
    def prefix(self) -> str:
        return self.env["OMNI_TOPIC_PREFIX"]

    @property
    def worker_url(self) -> str:
        return f"http://127.0.0.1:{self.env['OMNI_WEB_PORT']}"

    @property
    def sink_url(self) -> str:
        return f"http://127.0.0.1:{self.env['OMNI_SINK_PORT']}"

    @property
    def snapshot_path(self) -> Path:
        return self.settings.analytics_path

    def start(self) -> tuple[Service, Service]:
        """Topics first, then one worker and the sink; returns once both serve and own partitions."""
        ensure_topics(self.settings)
        worker = processes.worker(self.env, self.root / "logs")
        sink = processes.sink(self.env, self.root / "logs")
        self.services += [worker.start(), sink.start()]
        worker.wait_healthy(READY_TIMEOUT_S)
        sink.wait_healthy(READY_TIMEOUT_S)
        self._wait_assigned(worker)
        return worker, sink

    def _wait_assigned(self, worker: Service) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            status, body = get_json(f"{self.worker_url}/health")
            if status == 200 and body.get("assigned") and not body.get("rebalancing"):
                return
            if not worker.alive:
                raise RuntimeError(f"worker exited; see {worker.log_path}:\n{worker.tail()}")
            time.sleep(0.5)
        raise TimeoutError(f"worker owns no partitions after {READY_TIMEOUT_S}s; see {worker.log_path}")

    def close(self, keep: bool = False) -> list[str]:
        """Stop the services; unless `keep`, delete this run's topics and temp dir. Returns problems.

        Last, this process's environment gets back what `create` replaced: with KAFKA_BOOTSTRAP
        left set, `broker.stop_broker()` takes the broker for a foreign one and leaves it running.
        """
        try:
            return self._close(keep)
        finally:
            self._restore_env()

    def _close(self, keep: bool) -> list[str]:
        problems = []
        for service in self.services:
            service.stop(timeout_s=20)
            if service.returncode() not in (0, None):
                problems.append(f"{service.name} exited with {service.returncode()} (log {service.log_path})")
        if keep:
            return problems
        try:
            self.delete_topics()
        except Exception as exc:  # noqa: BLE001 (clean-up must not hide the results)
            problems.append(f"could not delete topics of run {self.run}: {exc!r}")
        shutil.rmtree(self.root, ignore_errors=True)
        return problems

    def _restore_env(self) -> None:
        for key, value in self.saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def topic_bytes(self) -> dict[str, int]:
        """Bytes of one copy of each topic of this run (all partitions), via DescribeLogDirs."""
        s = self.settings
        admin = KafkaAdminClient(bootstrap_servers=s.bootstrap.split(","), **s.security.kafka_python_kwargs())
        try:
            described = admin.describe_log_dirs()
        finally:
            admin.close()
        return one_copy_bytes(described, (self.prefix, s.app_id))

    def delete_topics(self) -> list[str]:
        """Every topic named after this run: its prefix, its app id (changelogs) and the floor's."""
        s = self.settings
        admin = KafkaAdminClient(bootstrap_servers=s.bootstrap.split(","), **s.security.kafka_python_kwargs())
        try:
            ours = [t for t in admin.list_topics() if t.startswith((self.prefix, s.app_id))]
            if ours:
                admin.delete_topics(ours)
            return ours
        finally:
            admin.close()
