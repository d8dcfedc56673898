"""Brokers die mid-stream on a three-node cluster, and nothing acknowledged is lost or applied twice (issue 16).

The module runs its own three-node KRaft cluster (broker/launcher.py, `--nodes 3`: every topic with
replication factor 3 and min.insync.replicas 2; every producer acks=all and idempotent). In each
test a worker and the sink run against it while a simulated day streams in, holds contend for a
few units of stock and customers earn, hold, capture and void points; then a fault:

(a) SIGKILL the broker that leads the most `inventory.movements` partitions, restart it ~20 s later;
(b) SIGKILL one broker, restart it, wait until it is back in sync, then the same with another one
    (never two down at once);
(c) stop the whole cluster and start it again, with the worker and the sink left running.

After each: DuckDB equals the simulator's report and holds exactly the rows the topics imply;
the stock table equals the report; every hold has one decision, the granted ones exactly those of
the reference model replayed from `inventory.movements` as Kafka kept it, never more than the units;
every wallet equals the reference model replayed from `loyalty.commands`, and every points command
has one outcome; the worker's and the sink's lag return to zero. What each fault cost (the longest
stall of an acks=all canary writer, the leaders' failover, the time to be back in sync) is measured
and written to `<OMNI_TEST_ARTIFACTS>/broker-faults.json` (docs/broker.md quotes a run).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from bench import scrape
from broker import ensure_broker, stop_broker
from broker.config import BrokerSettings, settings_from_env
from broker.launcher import kill_node, start_node
from broker.process import port_is_free
from domain.wallet import Wallet
from domain.wallet_log import apply
from ops.processes import Service, get_json
from sim.config import SimConfig
from streams.codec import decode, encode
from streams.holds import PlaceHold
from streams.loyalty import EarnPoints
from streams.stock import StockLine, StockReceived
from streams.topics import INVENTORY_HOLD_ANSWERS, INVENTORY_MOVEMENTS, LOYALTY_ANSWERS, LOYALTY_COMMANDS
from tests.conftest import Pipeline, pipeline_on
from tests.integration.checks import (
    DayInBackground,
    assert_duckdb_equals_report,
    assert_facts_equal_topics,
    assert_stock_table_equals_report,
    just_ended,
    wait_until_projected,
    wait_until_sink_caught_up,
)
from tests.integration.kafka_io import producer, read_to_end, wait_for
from tests.integration.test_wallet_crash import commands
from tests.unit.test_holds_model import Reference

pytestmark = pytest.mark.integration

DAY = SimConfig(events=4_000, seed=16, stores=8, warehouses=2, skus=80, customers=600, rate=60)
HOLD_NODE, UNITS = "st-h01", 12
HOLD_SKUS = [f"SKU-9{n:04d}" for n in range(1, 5)]  # outside the simulated catalogue (SKU-0xxxx)
HOLD_ATTEMPTS = 240
CUSTOMERS = [f"cus-{n:040x}" for n in range(0xF00, 0xF00 + 24)]
WALLET_ROUNDS = 4
RESULTS: dict[str, dict[str, float]] = {}


# --- the cluster -------------------------------------------------------------------------------------------


def free_port_block(size: int) -> int:
    """A first port with `size` free ports after it (the cluster's client and controller ports)."""
    rnd = random.Random()
    for _ in range(200):
        first = rnd.randrange(20_000, 32_000)  # below Linux's ephemeral ports (32768-)
        if all(port_is_free(first + k) for k in range(size)):
            return first
    raise RuntimeError("no block of free ports for the test cluster")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerSettings]:
    """A three-node cluster of this module's own, on free ports; stopped after the module."""
    first = free_port_block(6)
    settings = settings_from_env({**os.environ, "OMNI_KAFKA_NODES": "3", "OMNI_KAFKA_PORT": str(first),
                                  "OMNI_KAFKA_CONTROLLER_PORT": str(first + 3),
                                  "OMNI_KAFKA_DATA": str(tmp_path_factory.mktemp("cluster")),
                                  "KAFKA_BOOTSTRAP": "", "OMNI_KAFKA_SECURE": "0"})
    ensure_broker(settings)
    try:
        yield settings
    finally:
        stop_broker(settings)
        artifacts = os.environ.get("OMNI_TEST_ARTIFACTS")
        if artifacts and RESULTS:
            Path(artifacts).mkdir(parents=True, exist_ok=True)
            (Path(artifacts) / "broker-faults.json").write_text(json.dumps(RESULTS, indent=2) + "\n")
        print(f"\nbroker faults, measured: {json.dumps(RESULTS)}")


@pytest.fixture
def pipeline(cluster: BrokerSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The usual private pipeline (tests/conftest.py), on this module's cluster."""
    with pipeline_on(cluster.bootstrap, tmp_path, monkeypatch) as pipe:
        yield pipe


def admin(bootstrap: str) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap.split(","), request_timeout_ms=5_000)


def partitions_of(bootstrap: str, prefix: str) -> list[dict[str, Any]]:
    client = admin(bootstrap)
    try:
        names = [t for t in client.list_topics() if t.startswith(prefix)]
        return [{"topic": d["name"], "leader": p["leader_id"], "replicas": p["replica_nodes"], "isr": p["isr_nodes"]}
                for d in client.describe_topics(names) for p in d["partitions"]]
    finally:
        client.close()


def leaders_of_movements(pipeline: Pipeline) -> Counter[int]:
    name = pipeline.prefix + INVENTORY_MOVEMENTS.name
    return Counter(p["leader"] for p in partitions_of(pipeline.env["KAFKA_BOOTSTRAP"], name)
                   if p["topic"] == name)


def out_of_sync(pipeline: Pipeline) -> int:
    """Partitions of this pipeline's topics without all 3 replicas in sync, or without a leader."""
    try:
        parts = partitions_of(pipeline.env["KAFKA_BOOTSTRAP"], pipeline.prefix)
    except Exception:  # noqa: BLE001 (a cluster that does not answer is out of sync)
        return 1 << 30
    assert parts, "no topics of the pipeline on the cluster"
    return sum(1 for p in parts if p["leader"] < 0 or len(p["isr"]) < len(p["replicas"]))


def every_leader_alive(pipeline: Pipeline, dead: int) -> bool:
    name = pipeline.prefix + INVENTORY_MOVEMENTS.name
    try:
        parts = [p for p in partitions_of(pipeline.env["KAFKA_BOOTSTRAP"], name) if p["topic"] == name]
    except Exception:  # noqa: BLE001
        return False
    return bool(parts) and all(p["leader"] >= 0 and p["leader"] != dead for p in parts)


# --- what a fault costs: an acks=all writer that never stops --------------------------------------------------


class Canary:
    """Writes one small record every 0.2 s with acks=all to a topic of its own (6 partitions, 3 replicas,
    min.insync.replicas 2) and keeps when each was acknowledged: the longest gap between two
    acknowledgements is how long a producer of this system was stalled by the fault."""

    def __init__(self, pipeline: Pipeline) -> None:
        bootstrap = pipeline.env["KAFKA_BOOTSTRAP"]
        self.topic = pipeline.prefix + "canary"
        client = admin(bootstrap)
        try:
            client.create_topics([NewTopic(self.topic, 6, 3, topic_configs={"min.insync.replicas": "2"})])
        finally:
            client.close()
        self._producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all", enable_idempotence=True,
                                       linger_ms=0, request_timeout_ms=10_000, delivery_timeout_ms=120_000)
        self.acked: list[float] = []
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            try:
                self._producer.send(self.topic, key=str(n).encode(), value=b"x").get(timeout=130)
                self.acked.append(time.monotonic())
            except Exception:  # noqa: BLE001 (counted: the measure is whether writes get through)
                self.failed += 1
            time.sleep(0.2)

    def longest_stall(self, since: float) -> float:
        times = [since] + [t for t in self.acked if t >= since]
        return max(b - a for a, b in zip(times, times[1:], strict=False)) if len(times) > 1 else float("inf")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=140)
        self._producer.close(timeout=10)


# --- the contending traffic ----------------------------------------------------------------------------------


def hold_attempts(now: datetime) -> list[PlaceHold]:
    return [PlaceHold(event_id=f"place-{n}", occurred_at=now, source_node="web", order_id=f"or-{n}",
                      hold_id=f"or-{n}:{HOLD_SKUS[n % len(HOLD_SKUS)]}@{HOLD_NODE}", sku=HOLD_SKUS[n % len(HOLD_SKUS)],
                      node=HOLD_NODE, quantity=1, expires_at=now + timedelta(hours=2))
            for n in range(HOLD_ATTEMPTS)]


def wallet_commands(now: datetime) -> list[Any]:
    return commands(now, CUSTOMERS, rounds=WALLET_ROUNDS, seed=16, hold_for=timedelta(hours=2))


@dataclass
class Contention:
    """Holds and points commands published over `seconds`, interleaved, each send acknowledged (acks=all)."""

    pipeline: Pipeline
    seconds: float
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        now = datetime.now(UTC)
        holds = [(self.pipeline.prefix + "inventory.hold-requests", h.order_id, h) for h in hold_attempts(now)]
        points = [(self.pipeline.prefix + LOYALTY_COMMANDS.name, c.customer_id, c) for c in wallet_commands(now)]
        self.records = holds + points
        random.Random(16).shuffle(self.records)  # interleaved, the same way every run
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        kafka = producer(self.pipeline.env["KAFKA_BOOTSTRAP"])
        started, futures = time.monotonic(), []
        for n, (topic, key, command) in enumerate(self.records, 1):
            futures.append((command.event_id, kafka.send(topic, key=key.encode(), value=encode(command))))
            ahead = n * self.seconds / len(self.records) - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        for event_id, future in futures:
            try:
                future.get(timeout=180)
            except Exception as err:  # noqa: BLE001 (reported by `join`)
                self.failures.append(f"{event_id}: {err!r}")
        kafka.close(timeout=10)

    def publishing(self) -> bool:
        return self._thread.is_alive()

    def join(self) -> None:
        self._thread.join(timeout=300)
        assert not self._thread.is_alive(), "the holds and points commands were not all sent"
        assert not self.failures, f"{len(self.failures)} commands not acknowledged, e.g. {self.failures[:3]}"


def receive_hold_stock(pipeline: Pipeline) -> None:
    receipt = StockReceived(event_id="rcv-faults", occurred_at=datetime.now(UTC), source_node=HOLD_NODE,
                            delivery_id="d-faults", supplier_id="s-1",
                            lines=[StockLine(sku=sku, quantity=UNITS) for sku in HOLD_SKUS])
    producer(pipeline.env["KAFKA_BOOTSTRAP"]).send(f"{pipeline.prefix}inventory.adjustments",
                                                   key=HOLD_NODE.encode(), value=encode(receipt)).get(timeout=30)


# --- the scenario around each fault --------------------------------------------------------------------------


@dataclass
class Run:
    pipeline: Pipeline
    worker: Service
    sink: Service
    day: DayInBackground
    contention: Contention
    canary: Canary
    figures: dict[str, float] = field(default_factory=dict)


def start_run(pipeline: Pipeline) -> Run:
    worker = pipeline.worker().start()
    sink = pipeline.sink().start()
    worker.wait_healthy(180)
    sink.wait_healthy(180)
    receive_hold_stock(pipeline)
    url = f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}/stock/{HOLD_SKUS[-1]}/"
    wait_for(lambda: get_json(url)[1], lambda b: bool(b) and b.get("total_atp") == UNITS, 180, "the hold stock")
    canary = Canary(pipeline)
    day = DayInBackground(just_ended(DAY))
    contention = Contention(pipeline, seconds=DAY.events / DAY.rate)
    time.sleep(8)  # mid-stream before the fault
    assert day.publishing() and contention.publishing(), "the fault must come mid-stream"
    return Run(pipeline, worker, sink, day, contention, canary)


def finish_run(run: Run, name: str) -> None:
    """Everything sent is applied once, and the state equals the reference models; records the figures."""
    pipe, worker = run.pipeline, run.worker
    report = run.day.report(timeout_s=300)
    run.contention.join()
    ended = time.monotonic()
    wait_until_projected(pipe.analytics_path, report, stall_s=180, skip_skus=set(HOLD_SKUS))
    assert_duckdb_equals_report(pipe.analytics_path, report, skip_skus=set(HOLD_SKUS))
    assert_stock_table_equals_report(worker, report)
    lag = wait_for(lambda: lags(run), lambda got: got == (0.0, 0.0), 180, "the worker's and the sink's lag at zero")
    run.figures["caught_up_after_last_send_s"] = round(time.monotonic() - ended, 1)
    assert lag == (0.0, 0.0)
    ends = wait_until_sink_caught_up(pipe.analytics_path, settings_of(pipe))
    assert_facts_equal_topics(pipe.analytics_path, settings_of(pipe), ends)
    assert_holds_decided_once_as_the_model(run)
    assert_wallets_equal_the_model(run)
    assert wait_for(lambda: out_of_sync(pipe), lambda n: n == 0, 120, "every partition back in sync") == 0
    for service in (run.worker, run.sink):
        wait_for(lambda s=service: kafka_state(s), lambda state: state == "ok", 60, f"{service.name}: cluster ok")
    run.canary.stop()
    run.figures["canary_failed_sends"] = run.canary.failed
    assert run.canary.failed == 0, "an acks=all write failed outright (the producer gave up)"
    RESULTS[name] = run.figures
    print(f"{name}: {run.figures}")


def kafka_state(service: Service) -> str | None:
    """What the service's /health says of the cluster (ops/cluster_watch.py); None if it does not answer."""
    status, body = get_json(service.health_url)
    return None if not isinstance(body, dict) else body.get("kafka", {}).get("state")


def settings_of(pipe: Pipeline) -> Any:
    from settings import Settings

    return Settings.from_env(pipe.env)


def lags(run: Run) -> tuple[float, float]:
    """The worker's summed consumer lag and the sink's (-1 while one does not answer)."""
    worker = scrape.fetch(f"http://127.0.0.1:{run.worker.env['OMNI_WEB_PORT']}/metrics")
    sink = scrape.fetch(f"http://127.0.0.1:{run.pipeline.env['OMNI_SINK_PORT']}/metrics")
    return (-1.0 if worker is None else scrape.total(worker, "omnistream_consumer_lag"),
            -1.0 if sink is None else scrape.total(sink, "omnistream_sink_lag_records"))


def assert_answered_once(what: str, outcomes: dict[str, set[str]], records: Counter[str]) -> None:
    """One answer record per command, so one outcome: `outcomes` and `records` by command."""
    twice = {c: o for c, o in outcomes.items() if len(o) > 1}
    assert not twice, f"{what} answered two ways: {list(twice.items())[:3]}"
    repeated = {c: n for c, n in records.items() if n > 1}
    assert not repeated, f"{what} answered more than once: {list(repeated.items())[:3]}"


def assert_holds_decided_once_as_the_model(run: Run) -> None:
    pipe, bootstrap = run.pipeline, run.pipeline.env["KAFKA_BOOTSTRAP"]
    ours = {h.hold_id for h in hold_attempts(datetime.now(UTC))}  # (the day's orders place and commit holds too)
    answers: dict[str, set[str]] = defaultdict(set)
    copies: Counter[str] = Counter()
    for record in read_to_end(bootstrap, pipe.prefix + INVENTORY_HOLD_ANSWERS.name):
        answer = decode(INVENTORY_HOLD_ANSWERS, record.value, 1 << 20)
        if answer.hold_id in ours:
            answers[answer.hold_id].add(answer.answer)
            copies[answer.hold_id] += 1
    assert ours <= set(answers), f"{len(ours - set(answers))} holds never answered"
    assert_answered_once("holds", answers, copies)
    refs = {sku: Reference(on_hand={HOLD_NODE: 0}) for sku in HOLD_SKUS}
    seen: set[tuple[str, str]] = set()
    records = read_to_end(bootstrap, pipe.prefix + INVENTORY_MOVEMENTS.name)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        command = decode(INVENTORY_MOVEMENTS, record.value, 1 << 20)
        sku = getattr(command, "sku", record.key.decode())
        ref = refs.get(sku)
        if ref is None:
            continue
        if command.type == "stock.movement":
            if (sku, command.event_id) not in seen:
                seen.add((sku, command.event_id))
                ref.move(command.node, command.quantity)
        elif command.type.startswith("hold.place"):
            for place in getattr(command, "holds", [command]):
                ref.place(place.hold_id, place.node, place.quantity, place.expires_at, place.occurred_at)
    granted = {h for h, a in answers.items() if a == {"granted"}}
    want = {h for ref in refs.values() for h, r in ref.holds.items() if r.status == "granted"}
    assert granted == want
    assert len(granted) == UNITS * len(HOLD_SKUS), "the holds should sell out every unit, never more"
    port = run.worker.env["OMNI_WEB_PORT"]
    for sku in HOLD_SKUS:
        body = wait_for(lambda s=sku: get_json(f"http://127.0.0.1:{port}/stock/{s}/")[1],
                        lambda b: bool(b) and b["nodes"][HOLD_NODE]["held"] == UNITS, 60, f"{sku} held")
        assert body["nodes"][HOLD_NODE]["atp"] == 0


def assert_wallets_equal_the_model(run: Run) -> None:
    pipe, bootstrap = run.pipeline, run.pipeline.env["KAFKA_BOOTSTRAP"]
    expected = {c: Wallet(customer_id=c) for c in CUSTOMERS}
    records = read_to_end(bootstrap, pipe.prefix + LOYALTY_COMMANDS.name)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        command = decode(LOYALTY_COMMANDS, record.value, 1 << 20)
        if command.customer_id in expected:
            expected[command.customer_id] = apply(expected[command.customer_id], command, record.offset).wallet
    want = {c: (w.balance("pending"), w.balance("available"), w.balance("held")) for c, w in expected.items()}
    port = run.worker.env["OMNI_WEB_PORT"]

    def answered() -> dict[str, tuple[int, int, int]]:
        out = {}
        for customer in CUSTOMERS:
            status, body = get_json(f"http://127.0.0.1:{port}/wallets/{customer}/")
            if status == 200:
                out[customer] = (body["pending"], body["available"], body["held"])
        return out

    wait_for(answered, lambda got: got == want, 120, "every wallet equal to the reference model")
    outcomes: dict[str, set[str]] = defaultdict(set)
    answers: Counter[str] = Counter()
    for record in read_to_end(bootstrap, pipe.prefix + LOYALTY_ANSWERS.name):
        answer = decode(LOYALTY_ANSWERS, record.value, 1 << 20)
        if answer.customer_id in expected:
            outcomes[answer.command_id].add(answer.status)
            answers[answer.command_id] += 1
    points = [c for c in wallet_commands(datetime.now(UTC)) if not isinstance(c, EarnPoints)]
    missing = [c.event_id for c in points if c.event_id not in outcomes]
    assert not missing, f"{len(missing)} points commands never answered, e.g. {missing[:3]}"
    assert_answered_once("points commands", outcomes, answers)
    entries: dict[str, dict[str, Any]] = {}
    for record in read_to_end(bootstrap, pipe.prefix + "loyalty.ledger-entries"):
        posted = json.loads(record.value)
        for entry in posted["entries"]:
            mine = {**entry, "customer": posted["customer_id"]}
            assert entries.setdefault(entry["entry_id"], mine) == mine, "a ledger entry posted with two contents"
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in entries.values():
        sums[entry["customer"]][entry["debit"]] -= entry["points"]
        sums[entry["customer"]][entry["credit"]] += entry["points"]
    for customer, balances in want.items():
        assert (sums[customer]["pending"], sums[customer]["available"], sums[customer]["held"]) == balances


# --- the faults ----------------------------------------------------------------------------------------------


def test_the_leader_of_most_movement_partitions_is_killed_and_comes_back(
        pipeline: Pipeline, cluster: BrokerSettings) -> None:
    run = start_run(pipeline)
    leader, led = leaders_of_movements(pipeline).most_common(1)[0]
    killed_at = time.monotonic()
    kill_node(cluster, leader)
    wait_for(lambda: every_leader_alive(pipeline, leader), bool, 60, "new leaders for the movements")
    run.figures["leaders_moved_s"] = round(time.monotonic() - killed_at, 1)
    wait_for(lambda: kafka_state(run.worker), lambda state: state == "degraded", 30,
             "the worker's /health to say the cluster is degraded")
    run.figures["killed_node_led_partitions"] = led
    time.sleep(max(0.0, 20 - (time.monotonic() - killed_at)))
    restarted = time.monotonic()
    start_node(cluster, leader)
    wait_for(lambda: out_of_sync(pipeline), lambda n: n == 0, 180, "the restarted broker back in sync")
    run.figures["back_in_sync_after_restart_s"] = round(time.monotonic() - restarted, 1)
    run.figures["canary_longest_stall_s"] = round(run.canary.longest_stall(killed_at - 1), 1)
    finish_run(run, "a_leader_killed")


def test_two_brokers_are_killed_one_after_the_other(pipeline: Pipeline, cluster: BrokerSettings) -> None:
    run = start_run(pipeline)
    first_fault = time.monotonic()
    for n, node in enumerate((2, 3), 1):
        killed_at = time.monotonic()
        kill_node(cluster, node)
        wait_for(lambda nd=node: every_leader_alive(pipeline, nd), bool, 60, f"leaders without node {node}")
        run.figures[f"kill_{n}_leaders_moved_s"] = round(time.monotonic() - killed_at, 1)
        time.sleep(5)
        restarted = time.monotonic()
        start_node(cluster, node)
        wait_for(lambda: out_of_sync(pipeline), lambda x: x == 0, 180, f"node {node} back in sync")  # before the next
        run.figures[f"kill_{n}_back_in_sync_after_restart_s"] = round(time.monotonic() - restarted, 1)
    run.figures["canary_longest_stall_s"] = round(run.canary.longest_stall(first_fault - 1), 1)
    finish_run(run, "two_killed_in_turn")


def test_the_whole_cluster_stops_and_starts_with_worker_and_sink_running(
        pipeline: Pipeline, cluster: BrokerSettings) -> None:
    run = start_run(pipeline)
    stopped_at = time.monotonic()
    stop_broker(cluster)
    run.figures["stop_s"] = round(time.monotonic() - stopped_at, 1)
    for service in (run.worker, run.sink):  # they say so, and keep answering
        wait_for(lambda s=service: kafka_state(s), lambda state: state == "waiting for the cluster", 30,
                 f"{service.name}'s /health to say it waits for the cluster")
    assert run.worker.alive, "the worker died with the cluster"
    assert run.sink.alive, "the sink died with the cluster"
    started = time.monotonic()
    ensure_broker(cluster)
    run.figures["cluster_down_s"] = round(time.monotonic() - stopped_at, 1)
    run.figures["start_s"] = round(time.monotonic() - started, 1)
    wait_for(lambda: out_of_sync(pipeline), lambda n: n == 0, 180, "every partition led and in sync")
    run.figures["in_sync_after_start_s"] = round(time.monotonic() - started, 1)
    run.figures["canary_longest_stall_s"] = round(run.canary.longest_stall(stopped_at - 1), 1)
    finish_run(run, "whole_cluster_restarted")
