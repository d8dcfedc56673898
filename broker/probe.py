"""Readiness probe: does a Kafka cluster answer a metadata request at this bootstrap address?"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from broker.config import client_security

ATTEMPT_TIMEOUT_MS = 5000


def answers(bootstrap: str, timeout_ms: int = ATTEMPT_TIMEOUT_MS, security: dict[str, Any] | None = None) -> bool:
    """True if one admin client can bootstrap from `bootstrap` and list topics within `timeout_ms`.
    `security`: kafka-python security options (default: KAFKA_SECURITY_PROTOCOL and friends)."""
    with _quiet_kafka_logs():
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap,
                client_id="omnistream-broker-probe",
                request_timeout_ms=timeout_ms,
                bootstrap_timeout_ms=timeout_ms,
                **(client_security() if security is None else security),
            )
        except (KafkaError, OSError):
            return False
        try:
            admin.list_topics()
            return True
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()


def broker_ids(bootstrap: str, timeout_ms: int = 3000) -> set[int]:
    """The ids of the brokers the cluster lists as registered and not fenced (empty when nothing answers)."""
    with _quiet_kafka_logs():
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="omnistream-broker-probe",
                                     request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms,
                                     **client_security())
        except (KafkaError, OSError):
            return set()
        try:
            brokers = admin.describe_cluster().get("brokers", [])
            return {int(b["broker_id"]) for b in brokers if not b.get("is_fenced")}
        except (KafkaError, OSError):
            return set()
        finally:
            admin.close()


def wait_for(
    bootstrap: str,
    timeout_s: float,
    still_starting: Callable[[], bool] = lambda: True,
    reachable: Callable[[], bool] = lambda: True,
    security: dict[str, Any] | None = None,
) -> bool:
    """Poll until the cluster answers; stop early once `still_starting` says the process died."""
    deadline = time.monotonic() + timeout_s
    while True:
        remaining_ms = int((deadline - time.monotonic()) * 1000)
        # The cheap TCP check first: every failed admin client leaves an idle I/O thread behind.
        if reachable() and answers(bootstrap, max(1000, min(ATTEMPT_TIMEOUT_MS, remaining_ms)), security):
            return True
        if remaining_ms <= 0 or not still_starting():
            return False
        time.sleep(0.5)


@contextmanager
def _quiet_kafka_logs() -> Iterator[None]:
    # kafka-python logs every refused connection at ERROR; while polling, those are expected.
    logger = logging.getLogger("kafka")
    previous = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(previous)
