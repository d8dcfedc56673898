"""Settings, paths and rendered config files for the local Kafka broker (pure: no processes, no sockets)."""

from __future__ import annotations

import base64
import os
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
POM_PATH = PACKAGE_DIR / "pom.xml"

HOST = "127.0.0.1"
NODE_ID = 1
DEFAULT_PORT = 9092
DEFAULT_HEAP = "1g"
CLUSTER_HEAP = "512m"  # per node: three JVMs on a 2-core, 24 GiB machine
MAX_NODES = 9

# The launcher's own variables, in the order docs/broker.md lists them.
ENV_BOOTSTRAP = "KAFKA_BOOTSTRAP"
ENV_PORT = "OMNI_KAFKA_PORT"
ENV_CONTROLLER_PORT = "OMNI_KAFKA_CONTROLLER_PORT"
ENV_HOME = "OMNI_KAFKA_HOME"
ENV_DATA = "OMNI_KAFKA_DATA"
ENV_HEAP = "OMNI_KAFKA_HEAP"
ENV_SECURE = "OMNI_KAFKA_SECURE"
ENV_NODES = "OMNI_KAFKA_NODES"
ENV_NAMES = (ENV_BOOTSTRAP, ENV_PORT, ENV_CONTROLLER_PORT, ENV_HOME, ENV_DATA, ENV_HEAP, ENV_SECURE, ENV_NODES)


# Client security for an existing cluster, mapped to kafka-python option names.
SECURITY_ENV = {
    "KAFKA_SECURITY_PROTOCOL": "security_protocol",
    "KAFKA_SASL_MECHANISM": "sasl_mechanism",
    "KAFKA_SASL_USERNAME": "sasl_plain_username",
    "KAFKA_SASL_PASSWORD": "sasl_plain_password",
    "KAFKA_SSL_CAFILE": "ssl_cafile",
}

_HEAP_PATTERN = re.compile(r"^[1-9][0-9]*[kKmMgG]?$")


@dataclass(frozen=True)
class BrokerSettings:
    """Where the local broker listens and keeps its files; `external_bootstrap` disables launching.

    A cluster (`nodes` > 1) is described twice: as a whole (`node_id` 0: the first ports, the
    cluster's data dir with its cluster id and lock) and per node (`node(i)`: node i's ports
    `port + i - 1` and `controller_port + i - 1`, and its own data dir `<data>/node-<i>`)."""

    port: int
    controller_port: int
    home: Path
    data: Path
    heap: str
    external_bootstrap: str | None = None
    secure: bool = False
    nodes: int = 1
    node_id: int = 0  # 0: the whole cluster (or the single node); i: node i of a cluster
    cluster_data: Path | None = None  # a node's cluster data dir (cluster id, launch lock)
    first_port: int = 0  # a node's cluster's first client and controller ports
    first_controller_port: int = 0

    @property
    def cluster(self) -> bool:
        return self.nodes > 1

    @property
    def bootstrap(self) -> str:
        if self.external_bootstrap:
            return self.external_bootstrap
        first = self.first_port or self.port
        return ",".join(f"{HOST}:{first + k}" for k in range(self.nodes))

    @property
    def replication_factor(self) -> int:
        """Of every topic: 3 on a cluster of 3 or more nodes (each node holds a copy), else one per node."""
        return min(3, self.nodes)

    @property
    def min_insync_replicas(self) -> int:
        """2 on replication factor 3: an acknowledged write survives one broker's loss, and one broker
        may be down while writes go on; 1 on a single node."""
        return 2 if self.replication_factor >= 3 else 1

    @property
    def voters(self) -> str:
        """controller.quorum.voters: every node is a controller too (combined mode)."""
        first = self.first_controller_port or self.controller_port
        return ",".join(f"{k}@{HOST}:{first + k - 1}" for k in range(1, self.nodes + 1))

    @property
    def node_ids(self) -> range:
        return range(1, self.nodes + 1)

    def node(self, node_id: int) -> BrokerSettings:
        """The settings of node `node_id` (1-based); the single node's are the settings themselves."""
        if node_id not in self.node_ids:
            raise ValueError(f"node {node_id} is not in this cluster of {self.nodes} (nodes 1 to {self.nodes}).")
        if not self.cluster:
            return self
        if self.node_id:
            raise ValueError("node() of a node's settings: call it on the cluster's")
        return replace(self, port=self.port + node_id - 1, controller_port=self.controller_port + node_id - 1,
                       data=self.data / f"node-{node_id}", node_id=node_id, cluster_data=self.data,
                       first_port=self.port, first_controller_port=self.controller_port)

    @property
    def nodes_settings(self) -> list[BrokerSettings]:
        return [self.node(i) for i in self.node_ids]

    @property
    def log_dirs(self) -> Path:
        return self.data / "logs"

    @property
    def pidfile(self) -> Path:
        return self.data / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.data / "broker.log"

    @property
    def console_file(self) -> Path:
        return self.data / "broker.console.log"

    @property
    def cluster_id_file(self) -> Path:
        return (self.cluster_data or self.data) / "cluster.id"

    @property
    def properties_file(self) -> Path:
        return self.data / "server.properties"

    @property
    def log4j_file(self) -> Path:
        return self.data / "log4j2.properties"

    @property
    def lock_file(self) -> Path:
        return (self.cluster_data or self.data) / "launcher.lock"

    @property
    def tls_dir(self) -> Path:
        return self.data / "tls"

    @property
    def secrets_dir(self) -> Path:
        return self.data / "secrets"

    @property
    def ca_file(self) -> Path:
        """The PEM CA certificate clients verify the broker with (KAFKA_SSL_CAFILE)."""
        return self.tls_dir / "ca.pem"

    @property
    def keystore_file(self) -> Path:
        return self.tls_dir / "broker.p12"

    def secrets_file(self, principal: str) -> Path:
        """`<data>/secrets/<principal>.env`: the KAFKA_* client settings of one principal (mode 0600)."""
        return self.secrets_dir / f"{principal}.env"

    def libs_dir(self, version: str) -> Path:
        return self.home / version / "libs"


def settings_from_env(env: Mapping[str, str] | None = None) -> BrokerSettings:
    """Read the launcher settings from the environment, applying the documented defaults."""
    env = os.environ if env is None else env
    nodes = parse_nodes(env.get(ENV_NODES, "").strip() or "1")
    port = parse_port(env, ENV_PORT, DEFAULT_PORT)
    controller_port = parse_port(env, ENV_CONTROLLER_PORT, port + nodes)
    clients, controllers = set(range(port, port + nodes)), set(range(controller_port, controller_port + nodes))
    if clients & controllers:
        raise ValueError(f"{ENV_CONTROLLER_PORT}={controller_port} overlaps the client ports of {ENV_PORT}={port} "
                         f"({nodes} node{'s' if nodes > 1 else ''}: ports {port} to {port + nodes - 1}).")
    if max(clients | controllers) > 65535:
        raise ValueError(f"{nodes} nodes from {ENV_PORT}={port} run past port 65535.")
    secure = parse_flag(env, ENV_SECURE)
    if secure and nodes > 1:
        raise ValueError(f"the secured broker runs one node only ({ENV_SECURE}=1 with {ENV_NODES}={nodes}); "
                         f"a secured cluster is not supported by this launcher (docs/broker.md)")
    base = "kafka" if nodes == 1 else "kafka-cluster"
    run_name = base if port == DEFAULT_PORT else f"{base}-{port}"
    return BrokerSettings(
        port=port,
        controller_port=controller_port,
        home=_path(env, ENV_HOME, REPO_ROOT / ".cache" / "kafka"),
        # One data dir per port: its pidfile and lock say which broker is ours, so a broker on
        # another port never "reuses" (or stops) the default one.
        # A secured broker never shares its data dir (users, ACLs, certificates) with a plain one.
        data=_path(env, ENV_DATA, REPO_ROOT / ".run" / (f"{run_name}-secured" if secure else run_name)),
        heap=parse_heap(env.get(ENV_HEAP, "").strip() or (DEFAULT_HEAP if nodes == 1 else CLUSTER_HEAP)),
        external_bootstrap=env.get(ENV_BOOTSTRAP, "").strip() or None,
        secure=secure,
        nodes=nodes,
    )


def parse_nodes(raw: str) -> int:
    """How many broker nodes: 1 (one broker) or a cluster of 3 up to MAX_NODES (2 would lose its
    controller quorum with either node)."""
    if not raw.isdigit() or not (int(raw) == 1 or 3 <= int(raw) <= MAX_NODES):
        raise ValueError(f"{ENV_NODES}={raw!r}: use 1 (one broker) or 3 to {MAX_NODES} (a cluster); two nodes "
                         f"cannot lose either one.")
    return int(raw)


def parse_flag(env: Mapping[str, str], name: str) -> bool:
    """`1`, `true`, `yes` or `on` (any case) is on; unset, blank, `0`, `false`, `no` or `off` is off."""
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name}={raw!r} is not a flag; use 1 or 0.")


def parse_port(env: Mapping[str, str], name: str, default: int) -> int:
    """Return the TCP port in `env[name]`, or `default` when unset; reject anything else by name."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ValueError(f"{name}={raw!r} is not a TCP port; use a number from 1 to 65535.")
    return int(raw)


def parse_heap(raw: str) -> str:
    """Validate a JVM heap size such as `512m` or `1g` (it goes straight into -Xmx)."""
    if not _HEAP_PATTERN.match(raw):
        raise ValueError(f"{ENV_HEAP}={raw!r} is not a JVM heap size; use e.g. 512m or 1g.")
    return raw


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    raw = env.get(name, "").strip()
    return Path(raw).expanduser().resolve() if raw else default


def read_kafka_version(pom: Path = POM_PATH) -> str:
    """Read `kafka.version` from broker/pom.xml, the single place the version is pinned."""
    root = ET.parse(pom).getroot()
    namespace = root.tag.partition("}")[0] + "}" if root.tag.startswith("{") else ""
    node = root.find(f"{namespace}properties/{namespace}kafka.version")
    if node is None or not (node.text or "").strip():
        raise ValueError(f"{pom} has no <properties><kafka.version>; it pins the Kafka version.")
    return (node.text or "").strip()


def kafka_jar_name(version: str) -> str:
    """The broker jar whose presence means the libs directory is complete."""
    return f"kafka_2.13-{version}.jar"


def new_cluster_id() -> str:
    """A Kafka cluster id: a random UUID in unpadded URL-safe base64, as `kafka-storage random-uuid` prints."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # Kafka rejects ids that start with '-' because they read like command-line flags.
        if not text.startswith("-"):
            return text


def client_security(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """kafka-python security options taken from KAFKA_SECURITY_PROTOCOL and friends, when set."""
    env = os.environ if env is None else env
    return {option: env[name] for name, option in SECURITY_ENV.items() if env.get(name)}


def server_properties(settings: BrokerSettings) -> dict[str, str]:
    """One node's KRaft config (broker and controller in one process). On one node every internal
    topic has replication factor 1; on a cluster every topic gets 3 copies and min.insync.replicas 2,
    the topics Kafka and Faust create themselves included."""
    broker, controller = f"{HOST}:{settings.port}", f"{HOST}:{settings.controller_port}"
    rf, isr = str(settings.replication_factor), str(settings.min_insync_replicas)
    return {
        "process.roles": "broker,controller",
        "node.id": str(settings.node_id or NODE_ID),
        "controller.quorum.voters": settings.voters,
        "listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{broker}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": settings.log_dirs.as_posix(),
        "num.partitions": "1",
        "default.replication.factor": rf,
        "min.insync.replicas": isr,
        "offsets.topic.replication.factor": rf,
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": isr,
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": isr,
        # A replica that was not in sync never becomes leader: that would drop acknowledged writes.
        "unclean.leader.election.enable": "false",
        # Tests join consumer groups constantly; the default 3 s delay would slow every one.
        "group.initial.rebalance.delay.ms": "0",
        # Topics come from the streams registry; a typo must fail instead of creating a topic.
        "auto.create.topics.enable": "false",
    }


def render_properties(values: Mapping[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


def render_log4j2(settings: BrokerSettings) -> str:
    """log4j2 config: a size-capped broker.log, INFO from kafka.server, WARN and up from everything else."""
    log = settings.log_file.as_posix()
    return "\n".join(
        [
            "status = warn",
            "name = omnistream-broker",
            "appender.file.type = RollingFile",
            "appender.file.name = file",
            f"appender.file.fileName = {log}",
            f"appender.file.filePattern = {log}.%i",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = [%d] %p %m (%c)%n",
            "appender.file.policies.type = Policies",
            "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
            "appender.file.policies.size.size = 10MB",
            "appender.file.strategy.type = DefaultRolloverStrategy",
            "appender.file.strategy.max = 3",
            # Root at WARN silences the chatty raft, controller, log and coordinator packages.
            "rootLogger.level = warn",
            "rootLogger.appenderRef.file.ref = file",
            "logger.server.name = kafka.server",
            "logger.server.level = info",
            "",
        ]
    )
