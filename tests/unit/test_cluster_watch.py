"""The watch pointed where no broker listens: waiting for the cluster, said once, no thread left behind."""

from __future__ import annotations

import logging
import threading

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from bench import scrape
from ops.cluster_state import CHECKING, WAITING
from ops.cluster_watch import ClusterWatch, kafka_gauges
from ops.processes import free_port
from settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_watch_with_no_broker_to_ask_says_waiting_for_the_cluster_once_and_counts_the_seconds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bootstrap = f"127.0.0.1:{free_port()},127.0.0.1:{free_port()}"
    registry, clock = CollectorRegistry(), Clock()
    watch = ClusterWatch(Settings.from_env({"KAFKA_BOOTSTRAP": bootstrap}), kafka_gauges(registry),
                         clock=clock, timeout_ms=400)
    assert watch.health()["state"] == CHECKING
    threads_before = threading.active_count()
    caplog.set_level(logging.DEBUG)
    verdicts = []

    def ask() -> None:  # on a thread named as the watch's own (`start()`): its client's logs are dropped there
        for _ in range(3):
            verdicts.append(watch.check())
            clock.now += 5

    asker = threading.Thread(target=ask, name=watch.client_id)
    asker.start()
    asker.join(timeout=60)
    verdict = verdicts[-1]

    assert (verdict.state, verdict.reachable) == (WAITING, False)
    health = watch.health()
    assert (health["state"], health["reachable"], health["brokers"]) == (WAITING, False, 0)
    assert health["error"] == f"no broker answers at {bootstrap}"
    assert health["unreachable_s"] == 15.0 and health["checked_s_ago"] == 5.0
    samples = scrape.parse(generate_latest(registry).decode())
    assert scrape.total(samples, "omnistream_kafka_reachable") == 0
    assert scrape.total(samples, "omnistream_kafka_unreachable_seconds") == 10.0  # as of the last question

    ours = {watch.client_id, f"kafka-io-{watch.client_id}"}  # (not another test's client still retrying)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING
                and (r.name.startswith("omnistream") or r.threadName in ours)]
    assert [(r.name, r.getMessage()) for r in warnings] == [
        ("omnistream.kafka", f"waiting for the cluster: no broker answers at {bootstrap}; writes are held until "
                             "it returns")], "one line of ours, none of the client's connection errors"
    assert threading.active_count() == threads_before, "a failed bootstrap left the client's I/O thread running"


def test_started_and_stopped_the_watch_runs_on_its_own_thread_and_ends() -> None:
    settings = Settings.from_env({"KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}"})
    watch = ClusterWatch(settings, kafka_gauges(CollectorRegistry()), interval_s=0.05, timeout_ms=200)
    watch.start()
    assert watch._thread is not None and watch._thread.name.endswith("cluster-watch")
    watch._thread.join(0.6)
    watch.stop()
    watch._thread.join(2.0)
    assert not watch._thread.is_alive()
    assert watch.health()["state"] == WAITING
