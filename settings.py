"""One settings object for every Omnistream process, read from environment variables."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent

# Every variable, its default and what it does; docs/operations.md is generated from this table.
ENV_DEFAULTS: dict[str, tuple[str, str]] = {
    "KAFKA_BOOTSTRAP": ("127.0.0.1:9092", "Kafka bootstrap servers, comma separated"),
    "KAFKA_SECURITY_PROTOCOL": ("PLAINTEXT", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"),
    "KAFKA_SASL_MECHANISM": ("PLAIN", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"),
    "KAFKA_SASL_USERNAME": ("", "SASL user name"),
    "KAFKA_SASL_PASSWORD": ("", "SASL password"),
    "KAFKA_SSL_CAFILE": ("", "CA bundle (PEM) to verify the brokers"),
    "KAFKA_SSL_CERTFILE": ("", "client certificate (PEM) for mutual TLS"),
    "KAFKA_SSL_KEYFILE": ("", "client key (PEM) for mutual TLS"),
    "OMNI_APP_ID": ("omnistream", "Faust app id: consumer group and changelog prefix (renaming it is a migration)"),
    "OMNI_REPLICATION_FACTOR": ("1", "replication factor of every topic the registry creates (3 on a real cluster)"),
    "OMNI_TOPIC_PREFIX": ("", "prefix for every topic name (isolates test runs sharing a cluster)"),
    "OMNI_DATA_DIR": (".run/worker", "worker state directory (RocksDB tables)"),
    "OMNI_STORE": ("rocksdb://", "table store URL: rocksdb:// in production, memory:// in unit tests"),
    "OMNI_WEB_HOST": ("127.0.0.1", "host name other workers use to reach this one (table routing)"),
    "OMNI_WEB_BIND": ("127.0.0.1", "worker web server bind address (0.0.0.0 in containers)"),
    "OMNI_WEB_PORT": ("6066", "worker web port: /health, /metrics, /stock/{sku}"),
    "OMNI_DUCKDB_PATH": (".run/duckdb/omnistream.duckdb", "the sink's DuckDB file (single writer)"),
    "OMNI_ANALYTICS_PATH": ("", "read-only snapshot for analysts (default: analytics.duckdb beside the sink file)"),
    "OMNI_SNAPSHOT_INTERVAL_S": ("0.5", "how often the sink publishes the analyst snapshot (it backs off to 5x "
                                      "the last checkpoint-and-copy time when that is longer)"),
    "OMNI_SINK_HOST": ("127.0.0.1", "sink web server bind address"),
    "OMNI_SINK_PORT": ("6070", "sink web port: /health, /metrics"),
    "OMNI_DASHBOARD_HOST": ("127.0.0.1", "dashboard web server bind address (0.0.0.0 in containers)"),
    "OMNI_DASHBOARD_PORT": ("6080", "dashboard web port: the page at /, its JSON under /api/, /health"),
    "OMNI_SINK_BATCH_MAX": ("5000", "most records the sink applies in one DuckDB transaction"),
    "OMNI_SINK_BATCH_WAIT_MS": ("200", "longest the sink waits to fill a batch"),
    "OMNI_MAX_EVENT_BYTES": ("262144", "records larger than this are dead-lettered"),
    "OMNI_SESSION_TIMEOUT_S": ("10", "consumer session timeout: how fast a dead worker's partitions move"),
    "OMNI_COMMIT_INTERVAL_S": ("1.0", "how often the worker commits offsets"),
    "OMNI_PRODUCER_LINGER_S": ("0.005", "producer linger: batches sends at a small latency cost"),
    "OMNI_ORDER_HOLD_TTL_S": ("604800", "how long a delivery order's holds last before they expire unshipped"),
    "OMNI_PICKUP_WINDOW_S": ("259200", "pick-up window of an in-store pick-up order: then a no-show releases it"),
    "OMNI_LOYALTY_TOKENS": ("", "client:token pairs (comma separated) that may change wallets over HTTP"),
    "OMNI_WALLET_ANSWER_TIMEOUT_S": ("5", "how long an HTTP wallet change waits for the wallet's answer "
                                     "(504 after; a hold is then voided)"),
    "OMNI_IDENTITY_KEY": ("", "secret key of the identifier hash (HMAC-SHA256); set it in production"),
    "OMNI_POINTS_PER_UNIT": ("1", "loyalty points per currency unit of a purchase line's net value"),
    "OMNI_RETURN_WINDOW_DAYS": ("30", "earned points stay pending this long (the return window)"),
    "OMNI_POINTS_LIFETIME_DAYS": ("0", "earned points expire this long after the purchase, in lots, oldest first "
                                       "(0: never)"),
    "OMNI_TIER_THRESHOLDS": ("base:0,silver:50000,gold:150000",
                             "tier:cents pairs: rolling 365-day qualifying spend that reaches each tier"),
    "OMNI_TIER_MULTIPLIERS": ("base:1,silver:1.25,gold:1.5", "tier:multiplier pairs applied to earned points"),
    "OMNI_EXCLUDED_SKUS": ("", "comma-separated SKUs that earn no points and no tier spend (gift cards, tobacco)"),
    "OMNI_FRAUD_REDEMPTION_WINDOW_MINUTES": ("30", "redemption velocity: the window in which one card redeems ..."),
    "OMNI_FRAUD_REDEMPTION_MIN_STORES": ("3", "... at this many different stores or more"),
    "OMNI_FRAUD_LINK_WINDOW_DAYS": ("7", "linked accounts: the window in which one identifier is linked ..."),
    "OMNI_FRAUD_LINK_MIN_ACCOUNTS": ("3", "... to this many different accounts or more"),
    "OMNI_FRAUD_LATENESS_MINUTES": ("1440", "velocity and linked accounts: a fact this late in event time still "
                                            "meets its window (catch-ups re-key partitions out of order)"),
    "OMNI_FRAUD_RETURN_TOLERANCE_CENTS": ("0", "a return may refund this much more than its units were paid"),
    "OMNI_FRAUD_JOIN_GRACE_SECONDS": ("30", "a return or till price waits this long for its sale or central price"),
    "OMNI_FRAUD_LOOP_WINDOW_DAYS": ("30", "buy-earn-return loops: the window in which a customer returns ..."),
    "OMNI_FRAUD_LOOP_MIN_RETURNS": ("3", "... this many different purchases or more ..."),
    "OMNI_FRAUD_LOOP_RETURN_WITHIN_DAYS": ("14", "... each within this many days of buying it"),
    "OMNI_FRAUD_CASHIER_WINDOW_DAYS": ("7", "cashier exceptions (voids, overrides, refunds without receipt) over days"),
    "OMNI_FRAUD_CASHIER_MIN_EXCEPTIONS": ("5", "a cashier is flagged from this many exceptions ..."),
    "OMNI_FRAUD_CASHIER_MIN_SALES": ("10", "... with at least this many sales in the window ..."),
    "OMNI_FRAUD_CASHIER_MIN_RATE": ("0.05", "... at this many exceptions per sale or more ..."),
    "OMNI_FRAUD_CASHIER_NORM_FACTOR": ("3", "... and this many times the store's other cashiers' rate"),
    "OMNI_FRAUD_PRICE_TOLERANCE_PERCENT": ("0", "a till price this many percent under the central one is not flagged"),
    "OMNI_FRAUD_WEBHOOK_URL": ("", "fraud alerts are POSTed here as JSON (Idempotency-Key: the alert id); empty: "
                                   "log lines only"),
    "OMNI_CLOCK_SHIFT": ("0", "moves business time (what services take \"now\" to be when they stamp commands, "
                               "expire holds and mature points) by a duration: 45d, -2h, 90s. For tests and drills"),
    "OMNI_CLOCK_FILE": ("", "a file holding a further shift (same syntax), re-read when it changes: lets a test "
                            "move a running worker's clock. Empty: none"),
    "OMNI_WALLET_TIMER_S": ("1.0", "how often each worker looks for wallets whose lots mature or expire, holds "
                                   "expire or tier lapses: such a change is in the ledger within about this long"),
    "LOG_FORMAT": ("text", "text for people, json for log shippers"),
    "LOG_LEVEL": ("INFO", "DEBUG, INFO, WARNING or ERROR"),
}


def _env(name: str) -> str:
    return os.environ.get(name, ENV_DEFAULTS[name][0])


def _pairs(text: str) -> dict[str, str]:
    """`a:x,b:y` -> {"a": "x", "b": "y"}."""
    pairs = (item.split(":", 1) for item in text.split(",") if ":" in item)
    return {client.strip(): token.strip() for client, token in pairs if client.strip() and token.strip()}


def _path(name: str) -> Path:
    value = Path(_env(name))
    return value if value.is_absolute() else REPO_ROOT / value


@dataclass(frozen=True)
class KafkaSecurity:
    """How every client authenticates to a secured cluster; PLAINTEXT needs nothing."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    sasl_username: str = ""
    sasl_password: str = ""
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""

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
    """Everything a worker, the sink or the simulator needs to know about its surroundings."""

    bootstrap: str
    security: KafkaSecurity
    app_id: str
    topic_prefix: str
    replication_factor: int
    data_dir: Path
    store: str
    web_host: str
    web_bind: str
    web_port: int
    duckdb_path: Path
    analytics_path: Path
    snapshot_interval_s: float
    sink_host: str
    sink_port: int
    dashboard_host: str
    dashboard_port: int
    sink_batch_max: int
    sink_batch_wait_ms: int
    max_event_bytes: int
    session_timeout_s: float
    commit_interval_s: float
    producer_linger_s: float
    order_hold_ttl_s: float
    pickup_window_s: float
    loyalty_tokens: dict[str, str]
    wallet_answer_timeout_s: float
    identity_key: bytes
    points_per_unit: int
    return_window_days: float
    points_lifetime_days: float
    tier_thresholds: dict[str, str]
    tier_multipliers: dict[str, str]
    excluded_skus: frozenset[str]
    fraud: dict[str, str]  # OMNI_FRAUD_* without the prefix, lower case: domain.fraud.rules_from reads them
    fraud_webhook_url: str
    fraud_join_grace_s: float
    clock_shift: str
    clock_file: str
    wallet_timer_s: float
    log_format: str
    log_level: str
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        duckdb_path = _path("OMNI_DUCKDB_PATH")
        analytics = _env("OMNI_ANALYTICS_PATH")
        return cls(
            bootstrap=_env("KAFKA_BOOTSTRAP"),
            security=KafkaSecurity(
                protocol=_env("KAFKA_SECURITY_PROTOCOL"),
                sasl_mechanism=_env("KAFKA_SASL_MECHANISM"),
                sasl_username=_env("KAFKA_SASL_USERNAME"),
                sasl_password=_env("KAFKA_SASL_PASSWORD"),
                ssl_cafile=_env("KAFKA_SSL_CAFILE"),
                ssl_certfile=_env("KAFKA_SSL_CERTFILE"),
                ssl_keyfile=_env("KAFKA_SSL_KEYFILE"),
            ),
            app_id=_env("OMNI_APP_ID"),
            topic_prefix=_env("OMNI_TOPIC_PREFIX"),
            replication_factor=int(_env("OMNI_REPLICATION_FACTOR")),
            data_dir=_path("OMNI_DATA_DIR"),
            store=_env("OMNI_STORE"),
            web_host=_env("OMNI_WEB_HOST"),
            web_bind=_env("OMNI_WEB_BIND"),
            web_port=int(_env("OMNI_WEB_PORT")),
            duckdb_path=duckdb_path,
            analytics_path=Path(analytics) if analytics else duckdb_path.with_name("analytics.duckdb"),
            snapshot_interval_s=float(_env("OMNI_SNAPSHOT_INTERVAL_S")),
            sink_host=_env("OMNI_SINK_HOST"),
            sink_port=int(_env("OMNI_SINK_PORT")),
            dashboard_host=_env("OMNI_DASHBOARD_HOST"),
            dashboard_port=int(_env("OMNI_DASHBOARD_PORT")),
            sink_batch_max=int(_env("OMNI_SINK_BATCH_MAX")),
            sink_batch_wait_ms=int(_env("OMNI_SINK_BATCH_WAIT_MS")),
            max_event_bytes=int(_env("OMNI_MAX_EVENT_BYTES")),
            session_timeout_s=float(_env("OMNI_SESSION_TIMEOUT_S")),
            commit_interval_s=float(_env("OMNI_COMMIT_INTERVAL_S")),
            producer_linger_s=float(_env("OMNI_PRODUCER_LINGER_S")),
            order_hold_ttl_s=float(_env("OMNI_ORDER_HOLD_TTL_S")),
            pickup_window_s=float(_env("OMNI_PICKUP_WINDOW_S")),
            loyalty_tokens=_pairs(_env("OMNI_LOYALTY_TOKENS")),
            wallet_answer_timeout_s=float(_env("OMNI_WALLET_ANSWER_TIMEOUT_S")),
            identity_key=_env("OMNI_IDENTITY_KEY").encode(),
            points_per_unit=int(_env("OMNI_POINTS_PER_UNIT")),
            return_window_days=float(_env("OMNI_RETURN_WINDOW_DAYS")),
            points_lifetime_days=float(_env("OMNI_POINTS_LIFETIME_DAYS")),
            tier_thresholds=_pairs(_env("OMNI_TIER_THRESHOLDS")),
            tier_multipliers=_pairs(_env("OMNI_TIER_MULTIPLIERS")),
            excluded_skus=frozenset(x.strip() for x in _env("OMNI_EXCLUDED_SKUS").split(",") if x.strip()),
            fraud={name.removeprefix("OMNI_FRAUD_").lower(): _env(name) for name in ENV_DEFAULTS
                   if name.startswith("OMNI_FRAUD_") and name != "OMNI_FRAUD_WEBHOOK_URL"},
            fraud_webhook_url=_env("OMNI_FRAUD_WEBHOOK_URL"),
            fraud_join_grace_s=float(_env("OMNI_FRAUD_JOIN_GRACE_SECONDS")),
            clock_shift=_env("OMNI_CLOCK_SHIFT"),
            clock_file=_env("OMNI_CLOCK_FILE"),
            wallet_timer_s=float(_env("OMNI_WALLET_TIMER_S")),
            log_format=_env("LOG_FORMAT"),
            log_level=_env("LOG_LEVEL"),
        )
