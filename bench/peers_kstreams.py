"""The Kafka Streams peer of `python -m bench.peers`: build its fat jar once, start it, stop it."""

from __future__ import annotations

import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

from broker.jars import java_executable
from settings import REPO_ROOT

PROJECT = REPO_ROOT / "bench" / "peers_kstreams"
POM = PROJECT / "pom.xml"
BUILT = PROJECT / "target" / "stock-peer.jar"
JAR = REPO_ROOT / ".cache" / "peers-kstreams" / "stock-peer.jar"
READY_TIMEOUT_S = 120.0
STOP_GRACE_S = 20.0
TAIL_CHARS = 3000


def jar() -> Path:
    """The runnable jar, rebuilt with Maven only when the pom or a Java source is newer than it."""
    if JAR.exists() and JAR.stat().st_mtime >= _newest_source():
        return JAR
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("mvn was not found: install Maven (Debian/Ubuntu: apt-get install maven)")
    command = [mvn, "-q", "-B", "-f", str(POM), "package", "-DskipTests"]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    if result.returncode != 0 or not BUILT.exists():
        output = (result.stdout + result.stderr).strip()[-TAIL_CHARS:]
        raise RuntimeError(f"building the Kafka Streams peer failed (exit {result.returncode}):\n{output}")
    JAR.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUILT, JAR)
    JAR.touch()  # copy2 keeps target's mtime; the copy must look newer than the sources it came from
    return JAR


def _newest_source() -> float:
    sources = [POM, *PROJECT.glob("src/**/*")]
    return max(path.stat().st_mtime for path in sources if path.is_file())


def start(
    bootstrap: str,
    input_topic: str,
    output_topic: str,
    app_id: str,
    state_dir: Path,
    guarantee: str,
    cache_bytes: int = 0,
) -> subprocess.Popen[bytes]:
    """Run the peer and return once it printed READY (its streams reached RUNNING)."""
    log_path = state_dir.parent / f"{app_id}.kstreams.log"
    state_dir.mkdir(parents=True, exist_ok=True)
    args = {
        "bootstrap": bootstrap,
        "input": input_topic,
        "output": output_topic,
        "application-id": app_id,
        "state-dir": str(state_dir),
        "guarantee": guarantee,
        "cache-bytes": str(cache_bytes),
    }
    command = [java_executable(), "-jar", str(jar())]
    command += [part for name, value in args.items() for part in (f"--{name}", value)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
    _await_ready(proc, log_path)
    return proc


def _await_ready(proc: subprocess.Popen[bytes], log_path: Path) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        # select, not a bare readline: a peer that hangs before RUNNING must not hang the race.
        readable, _, _ = select.select([proc.stdout], [], [], 1.0)
        line = proc.stdout.readline() if readable else b""
        if line.strip() == b"READY":
            return
        if readable and not line:  # end of stdout: the peer exited
            proc.wait()
            raise RuntimeError(f"the Kafka Streams peer exited ({proc.returncode}):\n{_tail(log_path)}")
    stop(proc)
    raise RuntimeError(f"the Kafka Streams peer was not READY within {READY_TIMEOUT_S:.0f} s:\n{_tail(log_path)}")


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-TAIL_CHARS:]
    except OSError:
        return "(no log)"


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (its shutdown hook closes the streams and commits), then kill after the grace period."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
