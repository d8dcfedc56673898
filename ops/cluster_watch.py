"""Asks the Kafka cluster every few seconds, on a thread of its own, how this app's partitions fare.

Worker, sink and dashboard each run one (`OMNI_CLUSTER_WATCH_S`): its verdict is the `kafka`
object of their `/health`, their `omnistream_kafka_*` gauges, and a log line when it changes
(ops/cluster_state.py decides what it means and what to say). It never runs on an event loop:
an unreachable cluster makes each question wait for its timeout, and /health must still answer.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, RequestTimedOutError
from prometheus_client import CollectorRegistry, Gauge

from ops.cluster_state import (
    CHECKING,
    ClusterView,
    Narrator,
    Verdict,
    brokers_from,
    controller_from,
    judge,
    partitions_from,
    summary,
    unreachable,
)
from settings import Settings
from streams.admin import wanted_topics

log = logging.getLogger("omnistream.kafka")
TIMEOUT_MS = 3000  # each question: an unreachable cluster costs one poll this long, not a stuck thread
TOPICS_EVERY_S = 60.0  # how often the list of this app's topics and their min.insync.replicas is read again
# Commits and transactions write these: when they are under min ISR, offsets stop being committed.
INTERNAL_TOPICS = ("__consumer_offsets", "__transaction_state")
LOGGING_WAIT_S = 10.0
NO_ANSWER = (KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, RequestTimedOutError)


@dataclass(frozen=True)
class KafkaGauges:
    reachable: Gauge
    brokers: Gauge
    under_replicated: Gauge
    under_min_isr: Gauge
    offline: Gauge
    unreachable_seconds: Gauge

    def show(self, v: Verdict, unreachable_s: float) -> None:
        self.reachable.set(1 if v.reachable else 0)
        self.brokers.set(v.brokers)
        self.under_replicated.set(v.under_replicated)
        self.under_min_isr.set(v.under_min_isr)
        self.offline.set(v.offline)
        self.unreachable_seconds.set(unreachable_s)


def kafka_gauges(registry: CollectorRegistry) -> KafkaGauges:
    """The `omnistream_kafka_*` gauges in a process's registry (each process declares them once)."""
    def gauge(name: str, help: str) -> Gauge:
        return Gauge(f"omnistream_kafka_{name}", help, registry=registry)

    return KafkaGauges(
        reachable=gauge("reachable", "1 if the cluster answered the last question, else 0"),
        brokers=gauge("brokers", "Brokers the cluster serves with (fenced ones not counted)"),
        under_replicated=gauge("under_replicated_partitions",
                               "This app's partitions whose in-sync replicas are fewer than their replicas"),
        under_min_isr=gauge("under_min_isr_partitions",
                            "This app's partitions with a leader but fewer in-sync replicas than "
                            "min.insync.replicas: acks=all writes to them wait"),
        offline=gauge("offline_partitions", "This app's partitions without a leader"),
        unreachable_seconds=gauge("unreachable_seconds", "How long the cluster has not answered (0 when it does)"),
    )


class _Admin(KafkaAdminClient):  # type: ignore[misc]
    """kafka-python's admin client, closed again when it cannot bootstrap: its constructor has
    started an I/O thread by then and leaves it running, one more per failed attempt."""

    def __init__(self, **configs: Any) -> None:
        try:
            super().__init__(**configs)
        except Exception:
            self._closed = False  # close() stops only what it believes it started
            self.close()
            raise


class _NotFrom(logging.Filter):
    """Drops the kafka-python records of the watch's own threads: against an unreachable cluster
    its client logs about ten errors per attempt, and the watch says what it means in one line."""

    def __init__(self, threads: Iterable[str]) -> None:
        super().__init__()
        self.threads = frozenset(threads)

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName not in self.threads


class ClusterWatch:
    """The watch of one process. `start()` runs it on a daemon thread; `health()` and the gauges
    read its latest verdict; `check()` asks once (tests call it directly)."""

    def __init__(self, settings: Settings, gauges: KafkaGauges, interval_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic, timeout_ms: int = TIMEOUT_MS) -> None:
        self.settings = settings
        self.timeout_ms = timeout_ms
        self.gauges = gauges
        self.interval_s = settings.cluster_watch_s if interval_s is None else interval_s
        self.clock = clock
        self.narrator = Narrator()
        self.verdict = Verdict(state=CHECKING, reachable=False)
        self.checked_at: float | None = None
        self.client_id = f"{settings.app_id}-cluster-watch"
        self._registry_topics = {t.name for t in wanted_topics(settings)}
        self._admin: KafkaAdminClient | None = None
        self._topics: list[str] = []
        self._min_isr: dict[str, int] = {}
        self._topics_at = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._quiet = _NotFrom({self.client_id, f"kafka-io-{self.client_id}"})

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.client_id, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Ends the thread after the question in flight (no wait here: it may take TIMEOUT_MS)."""
        self._stop.set()

    def _run(self) -> None:
        # A worker starts its watch when Faust initialises, before Faust configures logging:
        # the first line (the cluster as found) would go nowhere.
        waited = 0.0
        while not logging.root.handlers and waited < LOGGING_WAIT_S and not self._stop.wait(0.1):
            waited += 0.1
        while not self._stop.is_set():
            self.check()
            self._stop.wait(self.interval_s)
        self._close()

    def check(self) -> Verdict:
        asked_at = self.clock()
        try:
            verdict = judge(self._view(asked_at))
        except Exception as err:  # noqa: BLE001 (any failure to answer is what the watch reports)
            self._close()
            verdict = unreachable(self._reason(err))
        line = self.narrator.observe(verdict, asked_at)
        if line is not None:
            log.log(*line)
        self.verdict, self.checked_at = verdict, asked_at
        self.gauges.show(verdict, self.narrator.unreachable_for_s(asked_at))
        return verdict

    def health(self) -> dict[str, Any]:
        """The `kafka` object of /health: the verdict, how long it has lasted, and a sentence."""
        now = self.clock()
        v = self.verdict
        return {
            **asdict(v),
            "missing_brokers": list(v.missing_brokers),
            "summary": summary(v),
            "bootstrap": self.settings.bootstrap,
            "unreachable_s": round(self.narrator.unreachable_for_s(now), 1) if not v.reachable else 0.0,
            "bad_for_s": round(self.narrator.bad_for_s(now), 1),
            "checked_s_ago": None if self.checked_at is None else round(now - self.checked_at, 1),
        }

    def _view(self, now: float) -> ClusterView:
        admin = self._client()
        cluster = admin.describe_cluster()
        # Every minute, and every time until the registry's topics are all there (the watch may
        # start while they are being created).
        if now - self._topics_at >= TOPICS_EVERY_S or not self._registry_topics <= set(self._topics):
            self._topics = self._ours(admin.list_topics())
            self._min_isr = self._read_min_isr(admin, self._topics)
            self._topics_at = now
        described = admin.describe_topics(self._topics) if self._topics else []
        return ClusterView(brokers=brokers_from(cluster, _accepts), controller=controller_from(cluster),
                           partitions=tuple(partitions_from(t for t in described if not t.get("error_code"))),
                           min_isr=self._min_isr)

    def _ours(self, names: Iterable[str]) -> list[str]:
        """This app's topics: the registry's (with the prefix), its changelogs and the internal ones."""
        changelogs = f"{self.settings.app_id}-"
        return sorted(n for n in names if n in self._registry_topics or n.startswith(changelogs)
                      or n in INTERNAL_TOPICS)

    def _read_min_isr(self, admin: KafkaAdminClient, topics: list[str]) -> dict[str, int]:
        """Each topic's min.insync.replicas; none when the cluster will not say (an ACL without
        DescribeConfigs): then `min_isr` assumes 2 on three replicas."""
        if not topics:
            return {}
        try:
            configs = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, t, ["min.insync.replicas"]) for t in topics],
                config_filter="all",
            ).get("topic", {})
            return {t: int(c["min.insync.replicas"]["value"]) for t, c in configs.items()
                    if "min.insync.replicas" in c}
        except NO_ANSWER:
            raise
        except Exception as err:  # noqa: BLE001 (the fallback rule stands in)
            log.debug("min.insync.replicas unreadable (%s): assuming 2 on three replicas", err)
            return {}

    def _client(self) -> KafkaAdminClient:
        if self._admin is None:
            self._quiet_kafka_loggers()
            self._admin = _Admin(bootstrap_servers=self.settings.bootstrap.split(","), client_id=self.client_id,
                                 request_timeout_ms=self.timeout_ms, bootstrap_timeout_ms=self.timeout_ms,
                                 reconnect_backoff_max_ms=1000, **self.settings.security.kafka_python_kwargs())
            self._topics_at = float("-inf")  # a cluster that comes back may have other topics
            self._quiet_kafka_loggers()  # and those its bootstrap imported (SASL)
        return self._admin

    def _quiet_kafka_loggers(self) -> None:
        loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                   if name == "kafka" or name.startswith("kafka.")]
        for logger in loggers:
            if self._quiet not in logger.filters:
                logger.addFilter(self._quiet)

    def _close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                admin.close()
            except Exception as err:  # noqa: BLE001 (a client being dropped may fail to close)
                log.debug("closing the cluster watch's admin client: %s", err)

    def _reason(self, err: Exception) -> str:
        if isinstance(err, NO_ANSWER):
            return f"no broker answers at {self.settings.bootstrap}"
        return f"{self.settings.bootstrap} answers with an error: {type(err).__name__}: {err}"


def _accepts(host: str, port: int) -> bool:
    """Whether a broker takes TCP connections: the metadata of a cluster without a quorum still
    lists dead brokers as serving (ops/cluster_state.judge)."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False
