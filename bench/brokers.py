"""The Kafka a benchmark runs on: the local broker, or a local cluster of `--kafka-nodes` N nodes.

One node is the launcher's broker as `broker.ensure_broker()` finds it (OMNI_KAFKA_PORT, or
KAFKA_BOOTSTRAP's cluster). N nodes is a cluster of the launcher's, on CLUSTER_FIRST_PORT unless
OMNI_KAFKA_PORT says otherwise, so it never collides with the dev broker or a dev cluster on 9092.
Either way a broker this run started is stopped at its end, and one it found running is left.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass

from kafka.admin import KafkaAdminClient

from broker import Broker, broker_status, ensure_broker, stop_broker
from broker.config import (
    ENV_BOOTSTRAP,
    ENV_NODES,
    ENV_PORT,
    BrokerSettings,
    parse_nodes,
    read_kafka_version,
    settings_from_env,
)
from settings import Settings
from streams.admin import Replication, replication

CLUSTER_FIRST_PORT = 19192  # nodes on 19192.., controllers on 19192 + N..: clear of 9092-9097


def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kafka-nodes", type=kafka_nodes, default=1, metavar="N",
                        help=f"run on a local Kafka cluster of N nodes (1, or 3 to 9; default 1); a cluster "
                             f"listens from port {CLUSTER_FIRST_PORT} unless {ENV_PORT} is set")


def kafka_nodes(raw: str) -> int:
    try:
        return parse_nodes(raw.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--kafka-nodes {raw}: use 1 or a cluster of 3 to 9 nodes") from exc


def broker_settings(nodes: int, env: Mapping[str, str] | None = None) -> BrokerSettings:
    """The launcher's settings for `nodes` nodes, the rest of them from `env` (this process's)."""
    env = dict(os.environ if env is None else env)
    if nodes > 1 and env.get(ENV_BOOTSTRAP, "").strip():
        raise ValueError(f"--kafka-nodes {nodes} starts a local cluster, but {ENV_BOOTSTRAP} names an existing one; "
                         f"unset {ENV_BOOTSTRAP}, or drop --kafka-nodes to run on that cluster as it is")
    env[ENV_NODES] = str(nodes)
    if nodes > 1 and not env.get(ENV_PORT, "").strip():
        env[ENV_PORT] = str(CLUSTER_FIRST_PORT)
    return settings_from_env(env)


@dataclass(frozen=True)
class BenchBroker:
    """The broker or cluster of one benchmark run, and what its topics get from it."""

    settings: BrokerSettings
    broker: Broker
    kafka: str  # the Kafka version, or "external" for KAFKA_BOOTSTRAP's cluster
    nodes: int  # brokers the cluster lists
    copies: Replication  # of every topic the run creates, as streams.admin decides it

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    def pids(self) -> dict[str, int]:
        """For a CpuMeter: `broker` for one node, `broker-<i>` per node of our cluster; none for a foreign one."""
        if self.broker.pids and len(self.broker.pids) > 1:
            return {f"broker-{node}": pid for node, pid in sorted(self.broker.pids.items())}
        pid = self.broker.pid or broker_status(self.settings).pid
        return {"broker": pid} if pid else {}

    def result_fields(self) -> dict[str, object]:
        return {"kafka_nodes": self.nodes, "replication_factor": self.copies.factor,
                "min_insync_replicas": self.copies.min_insync}

    def describe(self) -> str:
        return (f"broker {self.bootstrap} (Kafka {self.kafka}, {'started' if self.broker.started_here else 'reused'}; "
                f"{self.nodes} node{'s' if self.nodes > 1 else ''}, replication factor {self.copies.factor}, "
                f"min.insync.replicas {self.copies.min_insync})")

    def release(self) -> None:
        release(self.broker, self.settings)


def start(nodes: int) -> BenchBroker:
    """Start or reuse the broker (`nodes` 1) or cluster, and ask it how topics will be replicated."""
    settings = broker_settings(nodes)
    broker = ensure_broker(settings)
    try:
        listed, copies = cluster_copies(Settings.from_env({**os.environ, ENV_BOOTSTRAP: broker.bootstrap}))
    except BaseException:
        release(broker, settings)
        raise
    kafka = "external" if settings.external_bootstrap else read_kafka_version()
    return BenchBroker(settings, broker, kafka, listed, copies)


def cluster_copies(app: Settings) -> tuple[int, Replication]:
    """How many brokers the cluster lists, and the replication the app's topics get on it."""
    admin = KafkaAdminClient(bootstrap_servers=app.bootstrap.split(","), **app.security.kafka_python_kwargs())
    try:
        return len(admin.describe_cluster().get("brokers", [])), replication(app, admin)
    finally:
        admin.close()


def release(broker: Broker, settings: BrokerSettings | None = None) -> None:
    """Stop the broker (every node of a cluster) if this run started it; else leave it running."""
    settings = settings or settings_from_env()
    if broker.started_here:
        stop_broker(settings)
        print(f"stopped the {'cluster' if settings.cluster else 'broker'} this run started")
        return
    if settings.external_bootstrap:
        print(f"cluster at {ENV_BOOTSTRAP}={broker.bootstrap} left as it was")
        return
    nodes = f" --nodes {settings.nodes}" if settings.cluster else ""
    how = f"{ENV_PORT}={settings.port} python -m broker stop{nodes}"
    print(f"broker at {broker.bootstrap} left running (not started here); stop it with `{how}`")
