"""One settings object for every Omnistream process, read from environment variables."""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from domain.access import (
    Client,
    Clients,
    ClientsError,
    clients_from_env,
    clients_from_json,
    clients_from_legacy,
    digest,
)

REPO_ROOT = Path(__file__).resolve().parent
PEER_CLIENT = "peer"  # the client name workers call each other with (OMNI_PEER_TOKEN)

# The OMNI_FRAUD_* rule settings: domain.fraud.rules_from reads them by short name (lower case, no prefix).
FRAUD_SETTINGS: dict[str, tuple[str, str]] = {
    "OMNI_FRAUD_REDEMPTION_WINDOW_MINUTES": ("30", "redemption velocity: the window in which one card redeems ..."),
    "OMNI_FRAUD_REDEMPTION_MIN_STORES": ("3", "... at this many different stores or more"),
    "OMNI_FRAUD_LINK_WINDOW_DAYS": ("7", "linked accounts: the window in which one identifier is linked ..."),
    "OMNI_FRAUD_LINK_MIN_ACCOUNTS": ("3", "... to this many different accounts or more"),
    "OMNI_FRAUD_LATENESS_MINUTES": ("1440", "velocity and linked accounts: a fact this late in event time still "
                                            "meets its window (catch-ups re-key partitions out of order)"),
    "OMNI_FRAUD_RETURN_TOLERANCE_CENTS": ("0", "a return may refund this much more than its units were paid"),
    "OMNI_FRAUD_JOIN_GRACE_SECONDS": ("30", "a return waits this long for its sale"),
    "OMNI_FRAUD_LOOP_WINDOW_DAYS": ("30", "buy-earn-return loops: the window in which a customer returns ..."),
    "OMNI_FRAUD_LOOP_MIN_RETURNS": ("3", "... this many different purchases or more ..."),
    "OMNI_FRAUD_LOOP_RETURN_WITHIN_DAYS": ("14", "... each within this many days of buying it"),
    "OMNI_FRAUD_CASHIER_WINDOW_DAYS": ("7", "cashier exceptions (voids, overrides, refunds without receipt) over days"),
    "OMNI_FRAUD_CASHIER_MIN_EXCEPTIONS": ("5", "a cashier is flagged from this many exceptions ..."),
    "OMNI_FRAUD_CASHIER_MIN_SALES": ("10", "... with at least this many sales in the window ..."),
    "OMNI_FRAUD_CASHIER_MIN_RATE": ("0.05", "... at this many exceptions per sale or more ..."),
    "OMNI_FRAUD_CASHIER_NORM_FACTOR": ("3", "... and this many times the store's other cashiers' rate"),
    "OMNI_FRAUD_PRICE_TOLERANCE_PERCENT": ("0", "a till line this many % under the centre's re-price is not flagged"),
}


def setting(env: str, default: str, help: str) -> Any:
    """A field read from the environment variable `env`, parsed by the field's annotation
    (`PARSERS`): a setting's one declaration, with its default and what it does."""
    return field(metadata={"env": env, "default": default, "help": help})


@dataclass(frozen=True)
class KafkaSecurity:
    """How every client authenticates to a secured cluster; PLAINTEXT needs nothing."""

    protocol: str = setting("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
    sasl_mechanism: str = setting("KAFKA_SASL_MECHANISM", "PLAIN", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
    sasl_username: str = setting("KAFKA_SASL_USERNAME", "", "SASL user name")
    sasl_password: str = setting("KAFKA_SASL_PASSWORD", "", "SASL password")
    ssl_cafile: str = setting("KAFKA_SSL_CAFILE", "", "CA bundle (PEM) to verify the brokers")
    ssl_certfile: str = setting("KAFKA_SSL_CERTFILE", "", "client certificate (PEM) for mutual TLS")
    ssl_keyfile: str = setting("KAFKA_SSL_KEYFILE", "", "client key (PEM) for mutual TLS")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KafkaSecurity:
        return cls(**_read(cls, os.environ if env is None else env))

    def ssl_context(self) -> ssl.SSLContext | None:
        if "SSL" not in self.protocol:
            return None
        context = ssl.create_default_context(cafile=self.ssl_cafile or None)
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile or None)
        return context

    def _sasl(self) -> dict[str, Any]:
        if not self.protocol.startswith("SASL"):
            return {}
        return {
            "sasl_mechanism": self.sasl_mechanism,
            "sasl_plain_username": self.sasl_username,
            "sasl_plain_password": self.sasl_password,
        }

    def kafka_python_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python producers, consumers and admin clients."""
        kwargs: dict[str, Any] = {"security_protocol": self.protocol, **self._sasl()}
        if "SSL" in self.protocol:
            kwargs.update(
                ssl_cafile=self.ssl_cafile or None,
                ssl_certfile=self.ssl_certfile or None,
                ssl_keyfile=self.ssl_keyfile or None,
            )
        return kwargs

    def aiokafka_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for raw aiokafka clients (router, benchmarks)."""
        kwargs: dict[str, Any] = {"security_protocol": self.protocol, **self._sasl()}
        if "SSL" in self.protocol:
            kwargs["ssl_context"] = self.ssl_context()
        return kwargs


@dataclass(frozen=True)
class Settings:
    """Everything a worker, the sink or the simulator needs to know about its surroundings.

    Each setting is declared once, as a field below (`setting`); `ENV_DEFAULTS` is derived from
    them, and tests check docs/operations.md and docker-compose.yml against it."""

    security: KafkaSecurity
    fraud: dict[str, str]  # FRAUD_SETTINGS by short name: domain.fraud.rules_from reads them
    fraud_join_grace_s: float  # FRAUD_SETTINGS' OMNI_FRAUD_JOIN_GRACE_SECONDS, for the router's tick
    bootstrap: str = setting("KAFKA_BOOTSTRAP", "127.0.0.1:9092", "Kafka bootstrap servers, comma separated")
    app_id: str = setting("OMNI_APP_ID", "omnistream",
        "Faust app id: consumer group and changelog prefix (renaming it is a migration)")
    topic_prefix: str = setting("OMNI_TOPIC_PREFIX", "",
        "prefix for every topic name (isolates test runs sharing a cluster)")
    replication_factor: int = setting("OMNI_REPLICATION_FACTOR", "0",
        "replication factor of every topic the registry creates; 0: 3 on a cluster of 3 or more brokers, "
        "else 1 (min.insync.replicas is 2 on 3 copies, else 1)")
    data_dir: Path = setting("OMNI_DATA_DIR", ".run/worker", "worker state directory (RocksDB tables)")
    store: str = setting("OMNI_STORE", "rocksdb://",
        "table store URL: rocksdb:// in production, memory:// in unit tests")
    web_host: str = setting("OMNI_WEB_HOST", "127.0.0.1",
        "host name other workers use to reach this one (table routing)")
    web_bind: str = setting("OMNI_WEB_BIND", "127.0.0.1", "worker web server bind address (0.0.0.0 in containers)")
    web_port: int = setting("OMNI_WEB_PORT", "6066", "worker web port: /health, /metrics, /stock/{sku}")
    duckdb_path: Path = setting("OMNI_DUCKDB_PATH", ".run/duckdb/omnistream.duckdb",
        "the sink's DuckDB file (single writer)")
    analytics_path: Path = setting("OMNI_ANALYTICS_PATH", "",
        "read-only snapshot for analysts (default: analytics.duckdb beside the sink file)")
    snapshot_interval_s: float = setting("OMNI_SNAPSHOT_INTERVAL_S", "0.5",
        "how often the sink publishes the analyst snapshot (it backs off to 5x the last checkpoint-and-copy time "
        "when that is longer)")
    sink_host: str = setting("OMNI_SINK_HOST", "127.0.0.1", "sink web server bind address")
    sink_port: int = setting("OMNI_SINK_PORT", "6070", "sink web port: /health, /metrics")
    dashboard_host: str = setting("OMNI_DASHBOARD_HOST", "127.0.0.1",
        "dashboard web server bind address (0.0.0.0 in containers)")
    dashboard_port: int = setting("OMNI_DASHBOARD_PORT", "6080",
        "dashboard web port: the page at /, its JSON under /api/, /health")
    sink_batch_max: int = setting("OMNI_SINK_BATCH_MAX", "5000",
        "most records the sink applies in one DuckDB transaction")
    sink_batch_wait_ms: int = setting("OMNI_SINK_BATCH_WAIT_MS", "200", "longest the sink waits to fill a batch")
    max_event_bytes: int = setting("OMNI_MAX_EVENT_BYTES", "262144", "records larger than this are dead-lettered")
    session_timeout_s: float = setting("OMNI_SESSION_TIMEOUT_S", "10",
        "consumer session timeout: how fast a dead worker's partitions move")
    commit_interval_s: float = setting("OMNI_COMMIT_INTERVAL_S", "1.0", "how often the worker commits offsets")
    kafka_outage_s: float = setting("OMNI_KAFKA_OUTAGE_S", "120",
        "how long the router holds records for partitions without a leader (a cluster down) before the worker "
        "stops; its restart re-reads from the committed offsets")
    producer_linger_s: float = setting("OMNI_PRODUCER_LINGER_S", "0.005",
        "producer linger: batches sends at a small latency cost")
    producer_batch_bytes: int = setting("OMNI_PRODUCER_BATCH_BYTES", "524288",
        "largest producer batch per partition: a checkpoint's changelog records reach Kafka in a few round trips "
        "(16 KB took one per ~3 stock values); keep it under the broker's message.max.bytes (1 MB)")
    order_hold_ttl_s: float = setting("OMNI_ORDER_HOLD_TTL_S", "604800",
        "how long a delivery order's holds last before they expire unshipped")
    sourcing_profile: str = setting("OMNI_SOURCING_PROFILE", "network",
                                    "the sourcing profile that sources orders placed without a node")
    capacity_horizon_h: float = setting("OMNI_CAPACITY_HORIZON_H", "48",
                                        "how many hours ahead each node's pick/pack capacity slots are opened")
    capacity_lookback_h: float = setting("OMNI_CAPACITY_LOOKBACK_H", "24",
                                         "how many past hours' capacity slots are opened too (late orders)")
    capacity_open_interval_s: float = setting("OMNI_CAPACITY_OPEN_INTERVAL_S", "30",
                                              "how often the leader opens the capacity slots coming into the horizon")
    pricing_hold_ttl_s: float = setting("OMNI_PRICING_HOLD_TTL_S", "900",
        "how long a checkout's budget and coupon holds last before they expire unsold")
    pricing_lease_grace_s: float = setting("OMNI_PRICING_LEASE_GRACE_S", "86400",
        "how long a store's budget lease outlives its validity: time for offline tills' sales to arrive")
    pickup_window_s: float = setting("OMNI_PICKUP_WINDOW_S", "259200",
        "pick-up window of an in-store pick-up order: then a no-show releases it")
    loyalty_tokens: dict[str, str] = setting("OMNI_LOYALTY_TOKENS", "",
        "deprecated: client:token pairs, each a client with the `web` scope (use OMNI_CLIENT_TOKENS)")
    clients_file: str = setting("OMNI_CLIENTS_FILE", "",
        "JSON file of HTTP API clients: scopes, store, SHA-256 digests of their tokens (python -m ops.tokens)")
    client_tokens: str = setting("OMNI_CLIENT_TOKENS", "",
        "HTTP API clients inline, client:token:scope+scope[:store] comma separated (hashed on reading)")
    http_client: str = setting("OMNI_HTTP_CLIENT", "",
        "the client name this process sends to a worker's HTTP API (X-Client), e.g. a till or a bench")
    http_token: str = setting("OMNI_HTTP_TOKEN", "",
        "the token this process sends to a worker's HTTP API (Authorization: Bearer)")
    peer_token: str = setting("OMNI_PEER_TOKEN", "",
        "shared secret the workers call each other's HTTP API with (client `peer`, scope operator): set the "
        "same on every worker of a group, or checkouts whose budget account another worker owns answer 503")
    http_rate_per_s: float = setting("OMNI_HTTP_RATE_PER_S", "200",
        "requests a second one client may make to the rate-limited routes of one worker (429 beyond)")
    http_rate_burst: float = setting("OMNI_HTTP_RATE_BURST", "400",
        "requests one client may make at once to the rate-limited routes before the rate applies")
    http_max_body_bytes: int = setting("OMNI_HTTP_MAX_BODY_BYTES", "65536",
        "largest request body the HTTP API reads (413 beyond)")
    wallet_answer_timeout_s: float = setting("OMNI_WALLET_ANSWER_TIMEOUT_S", "5",
        "how long an HTTP wallet change waits for the wallet's answer (504 after; a hold is then voided)")
    identity_key: bytes = setting("OMNI_IDENTITY_KEY", "",
        "secret key of the identifier hash (HMAC-SHA256); set it in production")
    points_per_unit: int = setting("OMNI_POINTS_PER_UNIT", "1",
        "loyalty points per currency unit of a purchase line's net value")
    return_window_days: float = setting("OMNI_RETURN_WINDOW_DAYS", "30",
        "earned points stay pending this long (the return window)")
    points_lifetime_days: float = setting("OMNI_POINTS_LIFETIME_DAYS", "0",
        "earned points expire this long after the purchase, in lots, oldest first (0: never)")
    tier_thresholds: dict[str, str] = setting("OMNI_TIER_THRESHOLDS", "base:0,silver:50000,gold:150000",
        "tier:cents pairs: rolling 365-day qualifying spend that reaches each tier")
    tier_multipliers: dict[str, str] = setting("OMNI_TIER_MULTIPLIERS", "base:1,silver:1.25,gold:1.5",
        "tier:multiplier pairs applied to earned points")
    excluded_skus: frozenset[str] = setting("OMNI_EXCLUDED_SKUS", "",
        "comma-separated SKUs that earn no points and no tier spend (gift cards, tobacco)")
    fraud_webhook_url: str = setting("OMNI_FRAUD_WEBHOOK_URL", "",
        "fraud alerts are POSTed here as JSON (Idempotency-Key: the alert id); empty: log lines only")
    clock_shift: str = setting("OMNI_CLOCK_SHIFT", "0",
        "moves business time (what services take \"now\" to be when they stamp commands, expire holds and mature "
        "points) by a duration: 45d, -2h, 90s. For tests and drills")
    clock_file: str = setting("OMNI_CLOCK_FILE", "",
        "a file holding a further shift (same syntax), re-read when it changes: lets a test move a running worker's "
        "clock. Empty: none")
    wallet_timer_s: float = setting("OMNI_WALLET_TIMER_S", "1.0",
        "how often each worker looks for wallets whose lots mature or expire, holds expire or tier lapses: such a "
        "change is in the ledger within about this long")
    cluster_watch_s: float = setting("OMNI_CLUSTER_WATCH_S", "5",
        "how often worker, sink and dashboard ask the Kafka cluster for its brokers and this app's partitions "
        "(the `kafka` object of /health, the omnistream_kafka_* metrics, a log line when it changes)")
    log_format: str = setting("LOG_FORMAT", "text", "text for people, json for log shippers")
    log_level: str = setting("LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR")
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        fraud = {name: env.get(name, default) for name, (default, _) in FRAUD_SETTINGS.items()}
        values = _read(cls, env)
        if not env.get("OMNI_ANALYTICS_PATH"):  # beside the sink's file
            values["analytics_path"] = values["duckdb_path"].with_name("analytics.duckdb")
        return cls(
            security=KafkaSecurity.from_env(env),
            fraud={name.removeprefix("OMNI_FRAUD_").lower(): value for name, value in fraud.items()},
            fraud_join_grace_s=float(fraud["OMNI_FRAUD_JOIN_GRACE_SECONDS"]),
            **values,
        )

    def api_clients(self) -> Clients:
        """Every HTTP API client: the clients file, OMNI_CLIENT_TOKENS and the deprecated
        OMNI_LOYALTY_TOKENS together. A malformed entry raises ClientsError naming it."""
        clients = clients_from_legacy(self.loyalty_tokens).merged(clients_from_env(self.client_tokens),
                                                                  "OMNI_LOYALTY_TOKENS and OMNI_CLIENT_TOKENS")
        if self.peer_token:
            # Workers pass on what their own callers were already allowed and limited for: no rate of its own.
            peer = Client(PEER_CLIENT, frozenset({"operator"}), (digest(self.peer_token),), rate_per_s=1e9)
            clients = clients.merged(Clients({PEER_CLIENT: peer}))
        if self.clients_file:
            path = Path(self.clients_file)
            if not path.is_file():
                raise ClientsError(f"OMNI_CLIENTS_FILE={path}: no such file (python -m ops.tokens add writes one)")
            clients = clients.merged(clients_from_json(path.read_text(), str(path)), f"the environment and {path}")
        return clients

    def peer_headers(self) -> dict[str, str]:
        """The headers a worker calls another worker's HTTP API with (empty without OMNI_PEER_TOKEN)."""
        if not self.peer_token:
            return {}
        return {"X-Client": PEER_CLIENT, "Authorization": f"Bearer {self.peer_token}"}

    def http_headers(self) -> dict[str, str]:
        """The headers this process authenticates with to a worker's HTTP API (none if unset)."""
        if not self.http_client:
            return {}
        return {"X-Client": self.http_client, "Authorization": f"Bearer {self.http_token}"}


def _pairs(text: str) -> dict[str, str]:
    """`a:x,b:y` -> {"a": "x", "b": "y"}."""
    pairs = (item.split(":", 1) for item in text.split(",") if ":" in item)
    return {client.strip(): token.strip() for client, token in pairs if client.strip() and token.strip()}


def _path(text: str) -> Path:
    """Relative paths are the repository's."""
    value = Path(text)
    return value if value.is_absolute() else REPO_ROOT / value


def _names(text: str) -> frozenset[str]:
    return frozenset(x.strip() for x in text.split(",") if x.strip())


# How a setting's text becomes its field's type (the annotation, as written).
PARSERS: dict[str, Callable[[str], Any]] = {
    "str": str, "int": int, "float": float, "bytes": str.encode, "Path": _path, "dict[str, str]": _pairs,
    "frozenset[str]": _names,
}


def _read(cls: type, env: Mapping[str, str]) -> dict[str, Any]:
    """Every `setting` field of `cls`, read from `env` (else its default) and parsed by its annotation."""
    values = {}
    for f in fields(cls):
        if "env" in f.metadata:
            name, text = f.metadata["env"], env.get(f.metadata["env"], f.metadata["default"])
            try:
                values[f.name] = PARSERS[str(f.type)](text)
            except ValueError as err:
                raise ValueError(f"{name}={text!r} is not a valid {f.type} ({f.metadata['help']}): {err}") from err
    return values


def _declared(cls: type) -> dict[str, tuple[str, str]]:
    return {f.metadata["env"]: (f.metadata["default"], f.metadata["help"]) for f in fields(cls) if "env" in f.metadata}


# Every variable, its default and what it does (docs/operations.md is checked against it).
ENV_DEFAULTS: dict[str, tuple[str, str]] = {**_declared(Settings), **_declared(KafkaSecurity), **FRAUD_SETTINGS}
