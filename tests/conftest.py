"""Shared fixtures: the real Kafka broker for the session, and isolated pipelines per test."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ops import processes
from ops.processes import Service


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The broker every integration test talks to: started here unless one already runs.

    There is no skip: if the broker cannot start, every integration test errors and CI fails.
    """
    from broker import ensure_broker, stop_broker

    broker = ensure_broker()
    yield broker.bootstrap
    if broker.started_here and not os.environ.get("OMNI_KEEP_BROKER"):
        stop_broker()


TEST_STORE = "store-0001"  # the store the `test-till` client acts for
# scope -> (client, store): every pipeline's workers know one test client per scope (OMNI_CLIENT_TOKENS)
TEST_CLIENTS = {"till": ("test-till", TEST_STORE), "web": ("test-web", None), "app": ("test-app", None),
                "backoffice": ("test-backoffice", None), "operator": ("test-operator", None)}


def mint_tokens() -> dict[str, str]:
    """A fresh token per test client (client -> token)."""
    return {client: secrets.token_urlsafe(18) for client, _ in TEST_CLIENTS.values()}


def client_tokens_env(tokens: dict[str, str]) -> str:
    """The workers' OMNI_CLIENT_TOKENS for `tokens`: `client:token:scope[:store]` per test client."""
    return ",".join(f"{client}:{tokens[client]}:{scope}" + (f":{store}" if store else "")
                    for scope, (client, store) in TEST_CLIENTS.items())


@dataclass
class Pipeline:
    """One test's private Omnistream: its own topic prefix, app id, state, DuckDB and ports."""

    env: dict[str, str]
    root: Path
    services: list[Service] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # test client -> its token

    def headers(self, scope: str = "operator") -> dict[str, str]:
        """What the test client of `scope` sends to a worker (`till` acts for TEST_STORE only).
        Without explicit headers, get_json/post_json send the `operator` client's (OMNI_HTTP_*)."""
        client = TEST_CLIENTS[scope][0]
        return {"X-Client": client, "Authorization": f"Bearer {self.tokens[client]}"}

    @property
    def prefix(self) -> str:
        return self.env["OMNI_TOPIC_PREFIX"]

    @property
    def duckdb_path(self) -> Path:
        return Path(self.env["OMNI_DUCKDB_PATH"])

    @property
    def analytics_path(self) -> Path:
        return Path(self.env["OMNI_DUCKDB_PATH"]).with_name("analytics.duckdb")

    def worker(self, name: str = "worker", **overrides: str) -> Service:
        env = {**self.env, "OMNI_DATA_DIR": str(self.root / name), "OMNI_WEB_PORT": str(processes.free_port())}
        env.update(overrides)
        service = processes.worker(env, self.root / "logs", name)
        self.services.append(service)
        return service

    def sink(self) -> Service:
        service = processes.sink(self.env, self.root / "logs")
        self.services.append(service)
        return service

    def dashboard(self, worker: Service) -> Service:
        """The dashboard of this pipeline, reading `worker`'s stock and this pipeline's sink and snapshot."""
        env = {**self.env, "OMNI_WEB_PORT": worker.env["OMNI_WEB_PORT"],
               "OMNI_DASHBOARD_PORT": str(processes.free_port())}
        service = processes.dashboard(env, self.root / "logs")
        self.services.append(service)
        return service

    def stop_all(self) -> None:
        for service in self.services:
            service.stop(timeout_s=15)


@pytest.fixture
def pipeline(kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_on(kafka_bootstrap, tmp_path, monkeypatch) as pipe:
        yield pipe


@contextmanager
def pipeline_on(bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """A test's private Omnistream on the cluster at `bootstrap` (the session's broker, or a test's own)."""
    run = uuid.uuid4().hex[:8]
    tokens = mint_tokens()
    env = {
        "KAFKA_BOOTSTRAP": bootstrap,
        "OMNI_TOPIC_PREFIX": f"t{run}.",
        "OMNI_APP_ID": f"omni-test-{run}",
        "OMNI_DUCKDB_PATH": str(tmp_path / "duckdb" / "omnistream.duckdb"),
        "OMNI_SINK_PORT": str(processes.free_port()),
        "OMNI_SNAPSHOT_INTERVAL_S": "1",
        "OMNI_SESSION_TIMEOUT_S": "10",
        "LOG_LEVEL": "INFO",
        # Every worker knows a test client per scope; the test process, the sink and the dashboard call
        # as the operator. Tests are not throughput-capped: a rate-limit test sets its own rate.
        "OMNI_CLIENT_TOKENS": client_tokens_env(tokens),
        "OMNI_HTTP_CLIENT": TEST_CLIENTS["operator"][0],
        "OMNI_HTTP_TOKEN": tokens[TEST_CLIENTS["operator"][0]],
        "OMNI_HTTP_RATE_PER_S": "100000",
        "OMNI_PEER_TOKEN": uuid.uuid4().hex,  # the workers' calls to each other (a budget hold on its owner)
    }
    for key, value in env.items():  # the test's own clients (simulator, admin) see the same
        monkeypatch.setenv(key, value)
    pipe = Pipeline(env=env, root=tmp_path, tokens=tokens)
    try:
        yield pipe
    finally:
        pipe.stop_all()
        delete_topics(bootstrap, (env["OMNI_TOPIC_PREFIX"], env["OMNI_APP_ID"]))
        artifacts = os.environ.get("OMNI_TEST_ARTIFACTS")
        if artifacts:  # keep logs of every run for CI to show
            dest = Path(artifacts) / run
            dest.mkdir(parents=True, exist_ok=True)
            for log in (tmp_path / "logs").glob("*.log"):
                (dest / log.name).write_bytes(log.read_bytes())


def delete_topics(bootstrap: str, prefixes: tuple[str, ...]) -> None:
    """Delete a test's topics (its prefix, and its app id's changelogs and internal topics).

    A developer's broker outlives many runs: with every test's ~50 topics left behind it reached
    ~20,000 partition directories after a day's work and died with "Too many open files". A
    failure here is reported, never raised: the test's own verdict stands.
    """
    from kafka import KafkaAdminClient

    from settings import KafkaSecurity

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, **KafkaSecurity.from_env().kafka_python_kwargs())
        try:
            ours = [t for t in admin.list_topics() if t.startswith(prefixes)]
            if ours:
                admin.delete_topics(ours, timeout_ms=30_000)
        finally:
            admin.close()
    except Exception as err:  # noqa: BLE001 (clean-up must not change a test's outcome)
        print(f"could not delete the topics of {prefixes}: {err!r}")


LOG_TAIL_LINES = 60


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failed integration test, the tail of every service's log goes into the failure report.

    CI shows only what pytest prints; without this a timeout says what was missing, not why.
    """
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    pipe = getattr(item, "funcargs", {}).get("pipeline")
    if report.when != "call" or not report.failed or not isinstance(pipe, Pipeline):
        return
    for log in sorted((pipe.root / "logs").glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()
        report.sections.append((f"last {LOG_TAIL_LINES} lines of {log.name} ({len(lines)} lines)",
                                "\n".join(lines[-LOG_TAIL_LINES:])))
