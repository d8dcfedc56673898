"""Starts and stops workers and the sink as real processes (demo, integration tests, benchmarks)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from settings import REPO_ROOT, Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def caller_headers() -> dict[str, str]:
    """The headers this process authenticates with to a worker (OMNI_HTTP_CLIENT, OMNI_HTTP_TOKEN; none if unset)."""
    return Settings.from_env().http_headers()


def get_json(url: str, timeout: float = 2.0, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """(status, parsed body) of a GET as this process's client (or `headers`); (0, None) when nothing answers."""
    request = urllib.request.Request(url, headers=caller_headers() if headers is None else headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        body = err.read()
        return err.code, json.loads(body) if body.startswith(b"{") else None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, None


def post_json(url: str, body: Any, headers: dict[str, str] | None = None, timeout: float = 15.0) -> tuple[int, Any]:
    """(status, parsed body) of a JSON POST as this process's client (or `headers`); an HTTP error
    status is returned, not raised."""
    auth = caller_headers() if headers is None else headers
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **auth})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, json.loads(raw) if raw.startswith(b"{") else None


@dataclass
class Service:
    """One Omnistream process with its environment, log file and health URL."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    health_url: str
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child owns it)
        self.proc = subprocess.Popen(
            self.argv, env={**os.environ, **self.env, "PYTHONPATH": str(REPO_ROOT)}, cwd=REPO_ROOT,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_healthy(self, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited with {self.returncode()}; see {self.log_path}:\n{self.tail()}")
            status, _ = get_json(self.health_url)
            if status == 200:
                return
            time.sleep(0.5)
        raise TimeoutError(f"{self.name} not healthy at {self.health_url} after {timeout_s}s; see {self.log_path}")

    def kill9(self) -> None:
        """A crash: SIGKILL to the whole process group, no chance to flush or commit."""
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout_s: float = 30.0) -> None:
        if not self.alive or self.proc is None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill9()

    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def worker(env: dict[str, str], log_dir: Path, name: str = "worker") -> Service:
    port = env["OMNI_WEB_PORT"]
    return Service(
        name=name,
        argv=[sys.executable, "-m", "faust", "-A", "app", "worker", "-l", "info"],
        env=env,
        log_path=log_dir / f"{name}.log",
        health_url=f"http://127.0.0.1:{port}/health",
    )


def sink(env: dict[str, str], log_dir: Path) -> Service:
    port = env["OMNI_SINK_PORT"]
    return Service(
        name="sink",
        argv=[sys.executable, "-m", "analytics.sink"],
        env=env,
        log_path=log_dir / "sink.log",
        health_url=f"http://127.0.0.1:{port}/health",
    )


def dashboard(env: dict[str, str], log_dir: Path) -> Service:
    port = env["OMNI_DASHBOARD_PORT"]
    return Service(
        name="dashboard",
        argv=[sys.executable, "-m", "dashboard"],
        env=env,
        log_path=log_dir / "dashboard.log",
        health_url=f"http://127.0.0.1:{port}/health",
    )
