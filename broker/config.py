"""Settings, paths and rendered config files for the local Kafka broker (pure: no processes, no sockets)."""

from __future__ import annotations

import base64
import os
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
POM_PATH = PACKAGE_DIR / "pom.xml"

HOST = "127.0.0.1"
NODE_ID = 1
DEFAULT_PORT = 9092
DEFAULT_HEAP = "1g"

# The launcher's own variables, in the order docs/broker.md lists them.
ENV_BOOTSTRAP = "KAFKA_BOOTSTRAP"
ENV_PORT = "OMNI_KAFKA_PORT"
ENV_CONTROLLER_PORT = "OMNI_KAFKA_CONTROLLER_PORT"
ENV_HOME = "OMNI_KAFKA_HOME"
ENV_DATA = "OMNI_KAFKA_DATA"
ENV_HEAP = "OMNI_KAFKA_HEAP"
ENV_SECURE = "OMNI_KAFKA_SECURE"
ENV_NAMES = (ENV_BOOTSTRAP, ENV_PORT, ENV_CONTROLLER_PORT, ENV_HOME, ENV_DATA, ENV_HEAP, ENV_SECURE)


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
    """Where the local broker listens and keeps its files; `external_bootstrap` disables launching."""

    port: int
    controller_port: int
    home: Path
    data: Path
    heap: str
    external_bootstrap: str | None = None
    secure: bool = False

    @property
    def bootstrap(self) -> str:
        return self.external_bootstrap or f"{HOST}:{self.port}"

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
        return self.data / "cluster.id"

    @property
    def properties_file(self) -> Path:
        return self.data / "server.properties"

    @property
    def log4j_file(self) -> Path:
        return self.data / "log4j2.properties"

    @property
    def lock_file(self) -> Path:
        return self.data / "launcher.lock"

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
    port = parse_port(env, ENV_PORT, DEFAULT_PORT)
    controller_port = parse_port(env, ENV_CONTROLLER_PORT, port + 1)
    if controller_port == port:
        raise ValueError(f"{ENV_CONTROLLER_PORT} must differ from {ENV_PORT} (both are {port}).")
    secure = parse_flag(env, ENV_SECURE)
    run_name = "kafka" if port == DEFAULT_PORT else f"kafka-{port}"
    return BrokerSettings(
        port=port,
        controller_port=controller_port,
        home=_path(env, ENV_HOME, REPO_ROOT / ".cache" / "kafka"),
        # One data dir per port: its pidfile and lock say which broker is ours, so a broker on
        # another port never "reuses" (or stops) the default one.
        # A secured broker never shares its data dir (users, ACLs, certificates) with a plain one.
        data=_path(env, ENV_DATA, REPO_ROOT / ".run" / (f"{run_name}-secured" if secure else run_name)),
        heap=parse_heap(env.get(ENV_HEAP, "").strip() or DEFAULT_HEAP),
        external_bootstrap=env.get(ENV_BOOTSTRAP, "").strip() or None,
        secure=secure,
    )


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
    """The single-node KRaft broker+controller config; every internal topic gets replication factor 1."""
    broker, controller = f"{HOST}:{settings.port}", f"{HOST}:{settings.controller_port}"
    return {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{controller}",
        "listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{broker}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": settings.log_dirs.as_posix(),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
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
