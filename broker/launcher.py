"""Start, reuse, check and stop the local Kafka broker or three-node cluster (or check an existing cluster)."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from broker import jars, probe, process, secure
from broker.config import (
    ENV_BOOTSTRAP,
    ENV_CONTROLLER_PORT,
    ENV_PORT,
    HOST,
    BrokerSettings,
    settings_from_env,
)
from broker.secured_config import ADMIN_USER

log = logging.getLogger("omnistream.broker")

START_TIMEOUT_S = 120.0
EXTERNAL_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Broker:
    """A Kafka cluster that answers at `bootstrap`; `pid` is set only for the broker this launcher runs
    (a cluster's first node; `pids` has every node's)."""

    bootstrap: str
    started_here: bool
    pid: int | None
    pids: dict[int, int] | None = None


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    answering: bool
    pid: int | None
    bootstrap: str
    data_dir: Path | None
    node_id: int = 0


def ensure_broker(settings: BrokerSettings | None = None, timeout_s: float = START_TIMEOUT_S) -> Broker:
    """Return a broker that answers: KAFKA_BOOTSTRAP's cluster, ours if already running, or a new one."""
    settings = settings or settings_from_env()
    if settings.external_bootstrap:
        wait_until_ready(settings.bootstrap, min(timeout_s, EXTERNAL_TIMEOUT_S), settings=settings)
        log.info("Using the existing cluster at %s=%s", ENV_BOOTSTRAP, settings.bootstrap)
        return Broker(settings.bootstrap, started_here=False, pid=None)
    settings.data.mkdir(parents=True, exist_ok=True)
    if settings.cluster:
        return _ensure_cluster(settings, timeout_s)
    with _launch_lock(settings):
        pid = process.running_pid(settings)
        if pid is not None:
            log.info(
                "Reusing the broker already running at %s (pid %d)",
                settings.bootstrap,
                pid,
            )
            wait_until_ready(settings.bootstrap, timeout_s, pid=pid, settings=settings)
            _accounts(settings)
            return Broker(settings.bootstrap, started_here=False, pid=pid)
        if _foreign_kafka_on_port(settings):
            return Broker(settings.bootstrap, started_here=False, pid=None)
        pid = _start(settings)
        wait_until_ready(settings.bootstrap, timeout_s, pid=pid, settings=settings)
        _accounts(settings)
        log.info("Kafka broker ready at %s (pid %d)%s", settings.bootstrap, pid,
                 f"; client settings in {settings.secrets_dir}" if settings.secure else "")
        return Broker(settings.bootstrap, started_here=True, pid=pid)


def _ensure_cluster(settings: BrokerSettings, timeout_s: float) -> Broker:
    """Every node of the cluster running (the ones already running are reused), then every node
    registered with the controllers: topics need all their replicas' brokers to be created."""
    with _launch_lock(settings):
        running = {node.node_id: process.running_pid(node) for node in settings.nodes_settings}
        for node in settings.nodes_settings:  # every port first: a clash must not leave half a cluster behind
            if running[node.node_id] is None:
                _ports_free(node)
        pids, started = {}, []
        try:
            for node in settings.nodes_settings:
                node.data.mkdir(parents=True, exist_ok=True)
                pid = running[node.node_id]
                if pid is None:
                    pid = _start(node)
                    started.append(node.node_id)
                pids[node.node_id] = pid
            wait_for_nodes(settings, settings.node_ids, timeout_s, pids)
        except BaseException:
            if started:
                log.error("The cluster did not start: stopping the nodes this call started (%s)",
                          ", ".join(map(str, started)))
                _stop_nodes([settings.node(n) for n in started])
            raise
        reused = sorted(set(pids) - set(started))
        log.info("Kafka cluster of %d nodes ready at %s (pids %s)%s", settings.nodes, settings.bootstrap,
                 ", ".join(f"{n}:{p}" for n, p in sorted(pids.items())),
                 f"; nodes {', '.join(map(str, reused))} were already running" if reused else "")
        return Broker(settings.bootstrap, started_here=bool(started), pid=pids[1], pids=pids)


def start_node(settings: BrokerSettings, node_id: int, timeout_s: float = START_TIMEOUT_S) -> int:
    """Start one node of the cluster (after a kill, or a stop of that node) and wait until the
    controllers have it registered again; the running node's pid if it already runs."""
    node = settings.node(node_id)
    node.data.mkdir(parents=True, exist_ok=True)
    with _launch_lock(settings):
        pid = process.running_pid(node)
        if pid is not None:
            log.info("Node %d already runs (pid %d)", node_id, pid)
            return pid
        _ports_free(node)
        pid = _start(node)
        wait_for_nodes(settings, [node_id], timeout_s, {node_id: pid})
        log.info("Node %d is back at %s:%d (pid %d)", node_id, HOST, node.port, pid)
        return pid


def kill_node(settings: BrokerSettings, node_id: int) -> int | None:
    """SIGKILL one node, as a crash would (no controlled shutdown); its pid, None if it was not running."""
    node = settings.node(node_id)
    pid = process.running_pid(node)
    if pid is None:
        log.info("Node %d is not running", node_id)
        return None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while process.is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    log.info("Killed node %d (pid %d) with SIGKILL", node_id, pid)
    return pid


def wait_for_nodes(settings: BrokerSettings, node_ids: range | list[int], timeout_s: float,
                   pids: dict[int, int]) -> None:
    """Until the cluster answers and lists every node of `node_ids` among its brokers; raise saying
    which node is missing, with the end of its log, if it does not within `timeout_s`."""
    wanted = set(node_ids)
    deadline = time.monotonic() + timeout_s
    seen: set[int] = set()
    silent: set[int] = set()
    while time.monotonic() < deadline:
        dead = [n for n, pid in pids.items() if not process.is_alive(pid)]
        if dead:
            node = settings.node(dead[0])
            node.pidfile.unlink(missing_ok=True)
            raise RuntimeError(
                f"Kafka node {dead[0]} (pid {pids[dead[0]]}) exited while starting. Read {node.log_file} and "
                f"{node.console_file}; to start the cluster from scratch run `python -m broker stop --nodes "
                f"{settings.nodes}` and delete {settings.data}.\n{_tail(node.log_file)}{_tail(node.console_file)}")
        seen = probe.broker_ids(settings.bootstrap)
        # A node killed a moment ago is still listed until its session expires: the node itself must answer too.
        silent = {n for n in wanted & seen if not probe.answers(f"{HOST}:{settings.node(n).port}", 2000)}
        if wanted <= seen and not silent:
            return
        time.sleep(0.5)
    missing = sorted((wanted - seen) | silent)
    raise RuntimeError(
        f"Kafka nodes {missing} did not join the cluster at {settings.bootstrap} within {timeout_s:.0f} s "
        f"(brokers seen: {sorted(seen) or 'none'}). Read their logs (`python -m broker logs --nodes "
        f"{settings.nodes} --node {missing[0]}`); a cluster needs 2 of its {settings.nodes} controllers up to "
        f"elect a leader.\n{_tail(settings.node(missing[0]).log_file)}")


def _ports_free(node: BrokerSettings) -> None:
    for port, what in ((node.port, "client"), (node.controller_port, "controller")):
        if not process.port_is_free(port):
            raise RuntimeError(
                f"The {what} port {port} of Kafka node {node.node_id} on {HOST} is in use (a single broker, "
                f"or another cluster?). Stop it (`python -m broker stop`) or move this cluster with "
                f"{ENV_PORT}=<first port> (node i listens on that + i - 1, its controller on "
                f"{ENV_CONTROLLER_PORT} + i - 1).")


def _accounts(settings: BrokerSettings) -> None:
    """On the secured broker: every principal's SCRAM user and the ACLs for this environment's topic
    prefix and app id (OMNI_TOPIC_PREFIX, OMNI_APP_ID); both idempotent, so every start applies them."""
    if not settings.secure:
        return
    from settings import Settings  # the application's settings: only the secured broker needs them

    app = Settings.from_env()
    created = secure.ensure_users(settings)
    if created:
        log.info("Created SCRAM users %s", ", ".join(created))
    added, removed = secure.apply_acls(settings, app.topic_prefix, app.app_id)
    log.info("ACLs for topic prefix %r and app id %r: %d added, %d removed", app.topic_prefix, app.app_id, added,
             removed)


def _start(settings: BrokerSettings) -> int:
    java = jars.java_executable()
    libs = jars.fetch_jars(settings)
    if settings.secure:
        if jars.is_formatted(settings) and not settings.secrets_file(ADMIN_USER).exists():
            raise RuntimeError(f"{settings.data} holds a broker formatted without its secured accounts; "
                               f"delete it to start a secured broker there.")
        secure.prepare(settings)
    jars.write_config(settings)
    jars.format_storage(settings, java, libs)
    pid = process.spawn(jars.broker_command(settings, java, libs), settings)
    log.info("Started Kafka broker pid %d; logs in %s", pid, settings.log_file)
    return pid


def _foreign_kafka_on_port(settings: BrokerSettings) -> bool:
    """True if some other Kafka already serves our port; raise if anything else holds our ports."""
    if not process.port_is_free(settings.port):
        if settings.secure:
            raise RuntimeError(
                f"Port {settings.port} on {HOST} is in use (another broker?); a secured broker needs its own "
                f"port: choose one with {ENV_PORT}=<port>."
            )
        if probe.answers(settings.bootstrap):
            log.warning(
                "A Kafka broker not started by this launcher answers at %s; using it "
                "(set %s to start our own on another port).",
                settings.bootstrap,
                ENV_PORT,
            )
            return True
        raise RuntimeError(
            f"Port {settings.port} on {HOST} is in use by something that is not a Kafka broker. "
            f"Stop that program or choose another port with {ENV_PORT}=<port>."
        )
    if not process.port_is_free(settings.controller_port):
        raise RuntimeError(
            f"The KRaft controller port {settings.controller_port} on {HOST} is in use. Stop that program "
            f"or choose another port with {ENV_CONTROLLER_PORT}=<port> (default: {ENV_PORT} + 1)."
        )
    return False


def wait_until_ready(
    bootstrap: str,
    timeout_s: float = START_TIMEOUT_S,
    *,
    pid: int | None = None,
    settings: BrokerSettings | None = None,
) -> None:
    """Block until the cluster at `bootstrap` answers; raise RuntimeError saying what to do if it doesn't."""
    settings = settings or settings_from_env()
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    alive = (lambda: process.is_alive(pid)) if pid is not None else (lambda: True)
    reachable = (lambda: process.accepts_connections(host, int(port))) if port.isdigit() else (lambda: True)
    ours = settings.secure and settings.secrets_file(ADMIN_USER).exists()  # ours, or compose's with its secrets
    security = secure.admin_security(settings) if ours else None
    if probe.wait_for(bootstrap, timeout_s, still_starting=alive, reachable=reachable, security=security):
        return
    if settings.external_bootstrap:
        raise RuntimeError(
            f"The cluster at {ENV_BOOTSTRAP}={bootstrap} did not answer within {timeout_s:.0f} s. Check the "
            f"address, the network and the KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_* / KAFKA_SSL_CAFILE "
            f"settings, or unset {ENV_BOOTSTRAP} to run a local broker."
        )
    if pid is not None and not process.is_alive(pid):
        settings.pidfile.unlink(missing_ok=True)
        raise RuntimeError(
            f"The Kafka broker (pid {pid}) exited while starting. Read {settings.log_file} and "
            f"{settings.console_file}; to start from scratch run `python -m broker stop` and delete "
            f"{settings.data}.\n{_tail(settings.log_file)}{_tail(settings.console_file)}"
        )
    raise RuntimeError(
        f"Kafka at {bootstrap} did not answer within {timeout_s:.0f} s. Read {settings.log_file}; "
        f"then `python -m broker stop` and `python -m broker start` to retry.\n{_tail(settings.log_file)}"
    )


def stop_broker(settings: BrokerSettings | None = None, node_id: int | None = None) -> None:
    """Stop the broker this launcher started (SIGTERM, then SIGKILL after 30 s); no-op if none runs.
    On a cluster: every node at once (each leaves by controlled shutdown while the others still
    form a quorum), or only `node_id`."""
    settings = settings or settings_from_env()
    if settings.external_bootstrap:
        log.info(
            "%s is set: the cluster at %s is not ours to stop",
            ENV_BOOTSTRAP,
            settings.bootstrap,
        )
        return
    if settings.cluster:
        _stop_nodes([settings.node(node_id)] if node_id else settings.nodes_settings)
        return
    pid = process.running_pid(settings)
    if pid is None:
        log.info("No Kafka broker from this launcher is running (data dir %s)", settings.data)
        return
    log.info("Stopping Kafka broker pid %d...", pid)
    clean = process.terminate(pid)
    settings.pidfile.unlink(missing_ok=True)
    log.info("Stopped Kafka broker pid %d%s", pid, "" if clean else " (killed after 30 s)")


def _stop_nodes(nodes: list[BrokerSettings]) -> None:
    running = [(node, pid) for node in nodes if (pid := process.running_pid(node)) is not None]
    if not running:
        log.info("No Kafka node from this launcher is running (%s)", ", ".join(str(n.data) for n in nodes))
        return
    log.info("Stopping Kafka nodes %s...", ", ".join(f"{n.node_id} (pid {pid})" for n, pid in running))
    for _, pid in running:  # all at once: one after the other, the last would wait for a quorum that left
        process.signal_pid(pid, signal.SIGTERM)
    deadline = time.monotonic() + process.STOP_GRACE_S  # one grace period for all, then SIGKILL for the rest
    for node, pid in running:
        clean = process.terminate(pid, grace_s=max(0.0, deadline - time.monotonic()))
        node.pidfile.unlink(missing_ok=True)
        log.info("Stopped Kafka node %d (pid %d)%s", node.node_id, pid, "" if clean else " (killed after 30 s)")


def cluster_status(settings: BrokerSettings | None = None) -> list[BrokerStatus]:
    """Every node's status (one entry for a single broker)."""
    settings = settings or settings_from_env()
    if not settings.cluster or settings.external_bootstrap:
        return [broker_status(settings)]
    registered = probe.broker_ids(settings.bootstrap)
    statuses = []
    for node in settings.nodes_settings:
        pid = process.running_pid(node)
        statuses.append(BrokerStatus(pid is not None, pid is not None and node.node_id in registered, pid,
                                     f"{HOST}:{node.port}", node.data, node.node_id))
    return statuses


def broker_status(settings: BrokerSettings | None = None) -> BrokerStatus:
    """Whether our broker (or the KAFKA_BOOTSTRAP cluster) is running and answering."""
    settings = settings or settings_from_env()
    if settings.external_bootstrap:
        answering = probe.answers(settings.bootstrap)
        return BrokerStatus(answering, answering, None, settings.bootstrap, None)
    pid = process.running_pid(settings)
    security = secure.admin_security(settings) if settings.secure and pid is not None else None
    answering = pid is not None and probe.answers(settings.bootstrap, security=security)
    return BrokerStatus(pid is not None, answering, pid, settings.bootstrap, settings.data)


def log_tail(settings: BrokerSettings | None = None, lines: int = 50) -> str:
    """The last `lines` lines of broker.log ("" if there is none yet); of a node, `settings.node(i)`."""
    settings = settings or settings_from_env()
    return _last_lines(settings.log_file, lines)


def _last_lines(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except FileNotFoundError:
        return ""
    return "".join(line + "\n" for line in text)


def _tail(path: Path, lines: int = 20) -> str:
    text = _last_lines(path, lines)
    return f"--- last lines of {path} ---\n{text}" if text else ""


@contextmanager
def _launch_lock(settings: BrokerSettings) -> Iterator[None]:
    # Parallel test processes may all call ensure_broker(); only one of them may start the broker.
    with open(settings.lock_file, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
