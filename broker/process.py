"""The broker's operating-system process: pidfile, liveness, detached spawn, graceful stop, port checks."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from broker.config import HOST, BrokerSettings

STOP_GRACE_S = 30.0


def read_pid(settings: BrokerSettings) -> int | None:
    try:
        return int(settings.pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def running_pid(settings: BrokerSettings) -> int | None:
    """The pid from the pidfile if that process is alive and is our broker; a stale pidfile is removed."""
    pid = read_pid(settings)
    if pid is not None and is_alive(pid) and _is_our_broker(pid, settings):
        return pid
    settings.pidfile.unlink(missing_ok=True)
    return None


def is_alive(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _reap(pid: int) -> None:
    # A broker spawned by this very process stays a zombie until waited for.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"


def _is_our_broker(pid: int, settings: BrokerSettings) -> bool:
    # Guards against a recycled pid: the command line must name our server.properties.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return True  # No /proc (e.g. macOS): trust the pidfile.
    return "kafka.Kafka" in cmdline and str(settings.properties_file) in cmdline


def spawn(command: list[str], settings: BrokerSettings) -> int:
    """Start the broker detached (own session, survives this shell) and record its pid."""
    with open(settings.console_file, "ab") as console:
        process = subprocess.Popen(
            command,
            cwd=settings.data,
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # Popen would warn at exit about a child it never waited for; this broker is meant to outlive us.
    process.returncode = 0
    settings.pidfile.write_text(f"{process.pid}\n")
    return process.pid


def terminate(pid: int, grace_s: float = STOP_GRACE_S) -> bool:
    """SIGTERM, wait up to `grace_s` for a clean exit, then SIGKILL; True if the exit was clean."""
    _signal(pid, signal.SIGTERM)
    if _wait_gone(pid, grace_s):
        return True
    _signal(pid, signal.SIGKILL)
    _wait_gone(pid, 10.0)
    return False


def signal_pid(pid: int, sig: signal.Signals) -> None:
    """Send `sig`; a process already gone is not an error."""
    _signal(pid, sig)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.2)
    return not is_alive(pid)


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if nothing listens on host:port (SO_REUSEADDR so lingering TIME_WAIT sockets don't count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def accepts_connections(host: str, port: int, timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False
