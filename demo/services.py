"""The demo's long-running worker, sink and dashboard: started once, found again by pidfile, stopped on request."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

from kafka.admin import KafkaAdminClient

from demo import clients
from ops import processes
from ops.processes import Service, get_json
from settings import REPO_ROOT, Settings

RUN_DIR = REPO_ROOT / ".run" / "demo"
LOG_DIR = REPO_ROOT / ".run" / "logs"


def _pidfile(name: str) -> Path:
    return RUN_DIR / f"{name}.pid"


def _running_pid(name: str) -> int | None:
    try:
        pid = int(_pidfile(name).read_text())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None


def services(settings: Settings, known: clients.DemoClients) -> list[Service]:
    env = {
        "KAFKA_BOOTSTRAP": settings.bootstrap,
        "OMNI_WEB_PORT": str(settings.web_port),
        "OMNI_SINK_PORT": str(settings.sink_port),
        "OMNI_DASHBOARD_PORT": str(settings.dashboard_port),
        # Demo only: the demo's own clients (demo.clients), and points available at once (no
        # return window) so the story can redeem what it just earned. Set them yourself to override.
        "OMNI_CLIENTS_FILE": os.environ.get("OMNI_CLIENTS_FILE", str(clients.CLIENTS_FILE)),
        "OMNI_RETURN_WINDOW_DAYS": os.environ.get("OMNI_RETURN_WINDOW_DAYS", "0"),
    }
    dashboard = {**env, **known.env(clients.DASHBOARD)}  # it reads the worker's stock as its own client
    return [processes.worker(env, LOG_DIR), processes.sink(env, LOG_DIR), processes.dashboard(dashboard, LOG_DIR)]


NAMES = ("dashboard", "worker", "sink")  # the dashboard reads the other two: it stops first


def cluster_id(settings: Settings) -> str:
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap.split(","), **settings.security.kafka_python_kwargs())
    try:
        return str(admin.describe_cluster()["cluster_id"])
    finally:
        admin.close()


def forget_state_of_another_cluster(settings: Settings) -> None:
    """The worker's tables and the DuckDB files are derived from one cluster's topics. Against a
    different (say, re-formatted) cluster, Faust refuses to start ("persisted offset is higher
    than the highwater"); for the demo the right move is to rebuild them from the new topics."""
    marker = RUN_DIR / "cluster-id"
    current = cluster_id(settings)
    known = marker.read_text() if marker.exists() else None
    if known != current and (settings.data_dir.exists() or settings.duckdb_path.exists()):
        print(f"  the broker is a different cluster than last time: rebuilding {settings.data_dir.name}/ and DuckDB")
        stop_all()
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        for path in (settings.duckdb_path, settings.analytics_path):
            path.unlink(missing_ok=True)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    marker.write_text(current)


def ensure_running(settings: Settings) -> clients.DemoClients:
    """Start whichever of worker, sink and dashboard is not running yet; wait until all are healthy.
    Returns the demo's clients (minted on the first run; services then restart to read them)."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    forget_state_of_another_cluster(settings)
    known = clients.ensure()
    if known.fresh and any(_running_pid(name) for name in NAMES):
        print(f"  new client tokens in {clients.CLIENTS_FILE.relative_to(REPO_ROOT)}: restarting the services")
        stop_all()
    found = services(settings, known)
    reused = set()
    for service in found:
        pid = _running_pid(service.name)
        if pid:
            print(f"  {service.name}: already running (pid {pid})")
            reused.add(service.name)
            continue
        service.start()
        assert service.proc is not None
        _pidfile(service.name).write_text(str(service.proc.pid))
        print(f"  {service.name}: started (pid {service.proc.pid}), log {service.log_path.relative_to(REPO_ROOT)}")
    for service in found:
        if service.name in reused:  # not our child: watch its pid file and health URL instead
            _wait_reused_healthy(service, 180)
        else:
            service.wait_healthy(180)
    return known


def _wait_reused_healthy(service: Service, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _running_pid(service.name) is None:
            raise RuntimeError(f"{service.name} stopped; see {service.log_path}")
        if get_json(service.health_url)[0] == 200:
            return
        time.sleep(0.5)
    raise TimeoutError(f"{service.name} not healthy at {service.health_url} after {timeout_s}s; see {service.log_path}")


def stop_all() -> None:
    for name in NAMES:
        pid = _running_pid(name)
        if pid is None:
            print(f"{name}: not running")
            continue
        os.killpg(pid, signal.SIGTERM)
        for _ in range(60):
            if _running_pid(name) is None:
                break
            time.sleep(0.5)
        else:
            os.killpg(pid, signal.SIGKILL)
        _pidfile(name).unlink(missing_ok=True)
        print(f"{name}: stopped")


def status() -> None:
    for name in NAMES:
        pid = _running_pid(name)
        print(f"{name}: {'running, pid ' + str(pid) if pid else 'not running'}")
