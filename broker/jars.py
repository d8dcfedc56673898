"""The Java side of the launcher: find java and mvn, fetch the Kafka jars, format the KRaft storage."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

from broker import secure
from broker.config import (
    POM_PATH,
    BrokerSettings,
    kafka_jar_name,
    new_cluster_id,
    read_kafka_version,
    render_log4j2,
    render_properties,
    server_properties,
)
from broker.secured_config import ADMIN_USER, secured_properties

log = logging.getLogger("omnistream.broker")

MIN_JAVA = 17  # Kafka 4.x brokers need Java 17 or newer.
JAVA_HINT = "install a Java 17+ runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
MVN_HINT = "install Maven (Debian/Ubuntu: apt-get install maven); it downloads the Kafka jars from Maven Central"


def java_executable() -> str:
    """The java binary (JAVA_HOME first), checked to be version 17 or newer."""
    home = os.environ.get("JAVA_HOME")
    candidate = Path(home, "bin", "java") if home else None
    java = str(candidate) if candidate and candidate.exists() else shutil.which("java")
    if java is None:
        raise RuntimeError(f"java was not found: {JAVA_HINT}.")
    major = _java_major(java)
    if major is not None and major < MIN_JAVA:
        raise RuntimeError(f"{java} is Java {major}; Kafka needs {MIN_JAVA}+: {JAVA_HINT}.")
    return java


def _java_major(java: str) -> int | None:
    result = subprocess.run([java, "-version"], check=False, capture_output=True, text=True, timeout=60)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr)
    if match is None:
        return None
    first = int(match.group(1))
    # Java 8 and older report "1.8.0"; the real major number is the second field.
    return int(match.group(2) or 0) if first == 1 else first


def fetch_jars(settings: BrokerSettings) -> Path:
    """Download the broker jars with Maven unless <home>/<version>/libs already holds them."""
    version = read_kafka_version()
    libs = settings.libs_dir(version)
    stamp = libs / ".pom.sha256"
    pom_hash = hashlib.sha256(POM_PATH.read_bytes()).hexdigest()
    if (libs / kafka_jar_name(version)).exists() and stamp.exists() and stamp.read_text() == pom_hash:
        log.info("Kafka %s jars already in %s", version, libs)
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError(f"mvn was not found: {MVN_HINT}.")
    log.info(
        "Fetching Kafka %s jars with Maven into %s (about 40 s the first time)...",
        version,
        libs,
    )
    libs.mkdir(parents=True, exist_ok=True)
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(POM_PATH),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={libs}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    if result.returncode != 0 or not (libs / kafka_jar_name(version)).exists():
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise RuntimeError(
            f"Maven could not fetch Kafka {version} (exit {result.returncode}). Check that Maven Central "
            f"is reachable, then run `python -m broker fetch` again.\n{output}"
        )
    stamp.write_text(pom_hash)  # a changed pom (another dependency) fetches again
    log.info("Fetched %d jars", len(list(libs.glob("*.jar"))))
    return libs


def write_config(settings: BrokerSettings) -> None:
    """Write server.properties and log4j2.properties; rewritten each start so env changes apply."""
    settings.data.mkdir(parents=True, exist_ok=True)
    properties = server_properties(settings)
    if settings.secure:  # it then holds the broker's own password: readable by its owner only
        properties |= secured_properties(settings, secure.password(settings, ADMIN_USER),
                                         secure.keystore_password(settings))
        settings.properties_file.touch(mode=0o600)
        os.chmod(settings.properties_file, 0o600)
    settings.properties_file.write_text(render_properties(properties))
    settings.log4j_file.write_text(render_log4j2(settings))


def cluster_id(settings: BrokerSettings) -> str:
    """The cluster id kept in the data dir, minted on first use."""
    if settings.cluster_id_file.exists():
        return settings.cluster_id_file.read_text().strip()
    value = new_cluster_id()
    settings.cluster_id_file.write_text(value + "\n")
    return value


def is_formatted(settings: BrokerSettings) -> bool:
    return (settings.log_dirs / "meta.properties").exists()


def format_storage(settings: BrokerSettings, java: str, libs: Path) -> None:
    """Run `StorageTool format` once per data dir (KRaft refuses to start on unformatted storage)."""
    if is_formatted(settings):
        return
    log.info("Formatting KRaft storage in %s", settings.log_dirs)
    # No --standalone: controller.quorum.voters already names the single voter.
    command = [
        java,
        f"-Dlog4j2.configurationFile={settings.log4j_file}",
        "-cp",
        f"{libs}/*",
        "kafka.tools.StorageTool",
        "format",
        "--ignore-formatted",
        "-t",
        cluster_id(settings),
        "-c",
        str(settings.properties_file),
        *(secure.format_arguments(settings) if settings.secure else []),
    ]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise RuntimeError(
            f"Formatting Kafka storage in {settings.log_dirs} failed (exit {result.returncode}). If the "
            f"data dir is from another cluster, reset it: `python -m broker stop` and delete {settings.data}."
            f"\n{output}"
        )


def broker_command(settings: BrokerSettings, java: str, libs: Path) -> list[str]:
    """The java command line that runs the broker in the foreground of its own session."""
    return [
        java,
        f"-Xmx{settings.heap}",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={settings.log4j_file}",
        "-cp",
        f"{libs}/*",
        "kafka.Kafka",
        str(settings.properties_file),
    ]
