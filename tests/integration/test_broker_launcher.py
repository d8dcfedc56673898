"""Integration tests of the broker launcher against real Kafka brokers: the shared one and a private one."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest
from kafka.admin import KafkaAdminClient, NewTopic

from broker import ensure_broker, stop_broker, wait_until_ready
from broker.config import BrokerSettings, settings_from_env
from broker.process import port_is_free, running_pid
from tests.integration.kafka_io import wait_for

pytestmark = pytest.mark.integration


def free_port_pair() -> int:
    """A port p with p and p + 1 both free (client and controller)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 65535 and port_is_free(port + 1):
            return port
    raise RuntimeError("no two adjacent free ports found")


def test_second_ensure_broker_reuses_the_first_and_an_admin_can_create_a_topic() -> None:
    # The shared broker: other tests use it too, so this test never stops it.
    first = ensure_broker()
    second = ensure_broker()
    assert second.bootstrap == first.bootstrap
    assert second.started_here is False
    assert second.pid == first.pid
    topic = f"test.broker-launcher-{uuid.uuid4().hex[:12]}"
    admin = KafkaAdminClient(bootstrap_servers=first.bootstrap, request_timeout_ms=15000)
    try:
        admin.create_topics([NewTopic(name=topic, num_partitions=3, replication_factor=1)])
        # Metadata reaches the listing a moment after creation on a busy broker.
        wait_for(admin.list_topics, lambda topics: topic in topics, 15, f"{topic} in the topic list")
        admin.delete_topics([topic])
    finally:
        admin.close()


def test_a_private_broker_starts_is_reused_and_stops_idempotently(
    tmp_path: Path,
) -> None:
    # Its own ports and data dir leave the shared broker alone; the jars come from the shared cache.
    port = free_port_pair()
    env = {
        "OMNI_KAFKA_PORT": str(port),
        "OMNI_KAFKA_DATA": str(tmp_path / "kafka"),
        "OMNI_KAFKA_HEAP": "512m",
    }
    settings = settings_from_env(env)
    try:
        started = ensure_broker(settings)
        assert (started.started_here, started.bootstrap) == (True, f"127.0.0.1:{port}")
        assert ensure_broker(settings).pid == started.pid
        wait_until_ready(started.bootstrap, timeout_s=10, settings=settings)
        assert "Kafka Server started" in settings.log_file.read_text()
    finally:
        stop_broker(settings)
    assert running_pid(settings) is None
    assert port_is_free(port) and port_is_free(port + 1)
    stop_broker(settings)  # A second stop is a no-op.


def test_kafka_bootstrap_pointing_at_nothing_fails_with_advice_naming_the_variable(
    tmp_path: Path,
) -> None:
    silent = f"127.0.0.1:{free_port_pair()}"
    settings = BrokerSettings(
        port=1,
        controller_port=2,
        home=tmp_path,
        data=tmp_path,
        heap="1g",
        external_bootstrap=silent,
    )
    with pytest.raises(RuntimeError, match="KAFKA_BOOTSTRAP"):
        ensure_broker(settings, timeout_s=2)
