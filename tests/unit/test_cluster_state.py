"""The judgement of a cluster's answer (ok, degraded, waiting for the cluster) and what the log says when it changes."""

from __future__ import annotations

import logging

from hypothesis import given, settings
from hypothesis import strategies as st

from ops.cluster_state import (
    DEGRADED,
    OK,
    REMIND_EVERY_S,
    WAITING,
    ClusterView,
    Narrator,
    Partition,
    Verdict,
    brokers_from,
    controller_from,
    judge,
    partitions_from,
    summary,
    unreachable,
)

BROKERS = frozenset({1, 2, 3})
RANK = {OK: 0, DEGRADED: 1, WAITING: 2}


def topic(name: str, count: int, alive: frozenset[int] = BROKERS, replicas: tuple[int, ...] = (1, 2, 3)) -> list[
        Partition]:
    """`count` partitions on `replicas`, as the cluster shows them when only `alive` brokers serve."""
    isr = tuple(r for r in replicas if r in alive)
    return [Partition(name, i, isr[i % len(isr)] if isr else -1, replicas, isr) for i in range(count)]


def view(partitions: list[Partition], alive: frozenset[int] = BROKERS, min_isr: dict[str, int] | None = None
         ) -> ClusterView:
    return ClusterView(alive, min(alive) if alive else None, tuple(partitions), min_isr or {})


# -- reading kafka-python's answers -----------------------------------------------------------

def test_reads_kafka_pythons_describe_topics_answer_in_its_3x_and_2x_shapes() -> None:
    described = [
        {"error_code": 0, "name": "inventory.movements", "partitions": [
            {"error_code": 0, "partition_index": 1, "leader_id": 2, "replica_nodes": [2, 3, 1], "isr_nodes": [2, 3]},
            {"error_code": 5, "partition_index": 0, "leader_id": -1, "replica_nodes": [1, 2, 3], "isr_nodes": [1]},
        ]},
        {"topic": "old.shape", "partitions": [{"partition": 4, "leader": 1, "replicas": [1], "isr": [1]}]},
    ]
    assert partitions_from(described) == [
        Partition("inventory.movements", 1, 2, (2, 3, 1), (2, 3)),
        Partition("inventory.movements", 0, -1, (1, 2, 3), (1,)),
        Partition("old.shape", 4, 1, (1,), (1,)),
    ]


def test_fenced_brokers_do_not_count_and_an_unknown_controller_is_none() -> None:
    described = {"controller_id": -1, "brokers": [{"broker_id": 1, "is_fenced": False},
                                                  {"broker_id": 2, "is_fenced": True}, {"broker_id": 3}]}
    assert brokers_from(described) == {1, 3}
    assert controller_from(described) is None
    assert controller_from({"controller_id": 3}) == 3


def test_a_broker_that_takes_no_connections_does_not_serve() -> None:
    described = {"brokers": [{"broker_id": n, "host": "127.0.0.1", "port": 9091 + n, "is_fenced": False}
                             for n in (1, 2, 3)]}
    assert brokers_from(described, lambda host, port: port == 9092) == {1}


# -- the judgement on a three-broker cluster, replication factor 3, min.insync.replicas 2 ----

def test_two_of_three_combined_nodes_dead_is_waiting_though_the_survivors_metadata_says_all_in_sync() -> None:
    # No quorum left: nothing shrinks the ISRs or moves the leaders, the metadata looks healthy.
    stale = topic("t.inventory.movements", 12)
    verdict = judge(view(stale, alive=frozenset({1})))
    assert verdict.state == WAITING
    assert verdict.missing_brokers == (2, 3)
    assert verdict.offline == sum(1 for p in stale if p.leader != 1)
    assert verdict.under_min_isr == sum(1 for p in stale if p.leader == 1)
    assert verdict.under_replicated == 12


def test_every_replica_in_sync_is_ok() -> None:
    v = judge(view(topic("a", 6) + topic("b", 2)))
    assert (v.state, v.brokers, v.partitions, v.under_replicated, v.missing_brokers) == (OK, 3, 8, 0, ())


def test_one_broker_down_leaves_writes_going_but_every_partition_under_replicated() -> None:
    alive = frozenset({1, 3})
    v = judge(view(topic("a", 6, alive) + topic("b", 8, alive), alive, {"a": 2, "b": 2}))
    assert (v.state, v.under_replicated, v.under_min_isr, v.offline, v.missing_brokers) == (DEGRADED, 14, 0, 0, (2,))
    assert summary(v) == "Kafka degraded: 14 partitions under-replicated (broker 2 missing); writes go on"


def test_two_brokers_down_put_partitions_under_min_isr_so_the_app_waits_for_the_cluster() -> None:
    alive = frozenset({3})
    v = judge(view(topic("a", 4, alive), alive, {"a": 2}))
    assert (v.state, v.under_replicated, v.under_min_isr, v.offline, v.missing_brokers) == (WAITING, 4, 4, 0, (1, 2))
    assert summary(v).startswith("waiting for the cluster: 4 partitions under min ISR (brokers 1, 2 missing)")


def test_a_partition_whose_replicas_are_all_down_is_offline() -> None:
    alive = frozenset({3})
    v = judge(view(topic("a", 2, alive, replicas=(1, 2)), alive))
    assert (v.state, v.offline, v.under_min_isr, v.missing_brokers) == (WAITING, 2, 0, (1, 2))


def test_a_topic_with_min_isr_1_stays_writable_on_one_replica() -> None:
    alive = frozenset({3})
    assert judge(view(topic("a", 3, alive), alive, {"a": 1})).state == DEGRADED


def test_without_the_topics_config_three_replicas_are_taken_to_need_two_in_sync() -> None:
    assert judge(view(topic("a", 3, frozenset({3})), frozenset({3}))).state == WAITING
    assert judge(view(topic("a", 3, frozenset({1, 3})), frozenset({1, 3}))).state == DEGRADED
    one_replica = judge(view(topic("a", 3, replicas=(1,))))
    assert (one_replica.state, one_replica.partitions) == (OK, 3)


def test_a_replica_catching_up_after_its_broker_returned_is_degraded_with_no_broker_missing() -> None:
    v = judge(view([Partition("a", 0, 1, (1, 2, 3), (1, 3))]))
    assert (v.state, v.missing_brokers) == (DEGRADED, ())
    assert "no broker missing: replicas catching up" in summary(v)


@st.composite
def clusters(draw: st.DrawFn) -> tuple[ClusterView, int]:
    """A cluster of up to 5 brokers, some down, with partitions on 1 to 3 of them; and a broker to lose next."""
    brokers = list(range(1, draw(st.integers(1, 5)) + 1))
    alive = frozenset(draw(st.sets(st.sampled_from(brokers))))
    parts = []
    for i in range(draw(st.integers(0, 12))):
        replicas = tuple(draw(st.permutations(brokers))[: draw(st.integers(1, min(3, len(brokers))))])
        isr = tuple(r for r in replicas if r in alive and draw(st.booleans()))  # alive, yet maybe lagging
        leader = draw(st.sampled_from(isr)) if isr else -1
        parts.append(Partition(draw(st.sampled_from(["a", "b"])), i, leader, replicas, isr))
    min_isr = draw(st.dictionaries(st.sampled_from(["a", "b"]), st.integers(1, 3)))
    return ClusterView(alive, None, tuple(parts), min_isr), draw(st.sampled_from(brokers))


def lose(v: ClusterView, broker: int) -> ClusterView:
    """The same cluster once `broker` dies: it leaves every ISR, and leads nothing."""
    parts = []
    for p in v.partitions:
        isr = tuple(r for r in p.isr if r != broker)
        leader = p.leader if p.leader != broker else (isr[0] if isr else -1)
        parts.append(Partition(p.topic, p.index, leader, p.replicas, isr))
    return ClusterView(v.brokers - {broker}, v.controller, tuple(parts), v.min_isr)


@settings(max_examples=300, deadline=None)
@given(clusters())
def test_losing_a_broker_never_makes_the_verdict_better(case: tuple[ClusterView, int]) -> None:
    cluster, broker = case
    before, after = judge(cluster), judge(lose(cluster, broker))
    assert RANK[after.state] >= RANK[before.state], (before, after)
    assert after.offline >= before.offline and after.under_replicated >= before.under_replicated


@settings(max_examples=300, deadline=None)
@given(clusters())
def test_the_verdicts_counts_agree_with_its_state_and_its_partitions(case: tuple[ClusterView, int]) -> None:
    cluster, _ = case
    v = judge(cluster)
    assert v.offline + v.under_min_isr <= v.partitions == len(cluster.partitions)
    assert (v.state == WAITING) == bool(v.offline or v.under_min_isr)
    assert (v.state == OK) == (not v.offline and not v.under_min_isr and not v.under_replicated)
    assert not set(v.missing_brokers) & cluster.brokers
    assert set(v.missing_brokers) <= {r for p in cluster.partitions for r in p.replicas}
    assert judge(ClusterView(cluster.brokers, None, tuple(reversed(cluster.partitions)), cluster.min_isr)) == v


# -- what the log says ------------------------------------------------------------------------

DOWN = unreachable("no broker answers at 127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094")
HEALTHY = Verdict(OK, True, brokers=3, controller=1, partitions=120)


def degraded(count: int = 14, missing: tuple[int, ...] = (2,)) -> Verdict:
    return Verdict(DEGRADED, True, brokers=3 - len(missing), partitions=120, under_replicated=count,
                   missing_brokers=missing)


def test_a_healthy_cluster_is_said_once_at_the_start_and_then_not_again() -> None:
    narrator = Narrator()
    first = narrator.observe(HEALTHY, 100.0)
    assert first == (logging.INFO, "Kafka cluster: 3 brokers, all 120 partitions of this app in sync, controller 1")
    assert [narrator.observe(HEALTHY, 100.0 + 5 * i) for i in range(1, 50)] == [None] * 49


def test_an_unreachable_cluster_is_one_warning_then_a_reminder_every_30_s_then_one_line_when_it_is_back() -> None:
    narrator = Narrator()
    narrator.observe(HEALTHY, 0.0)
    said = [(t, narrator.observe(DOWN, t)) for t in range(5, 125, 5)]
    lines = [(t, line) for t, line in said if line is not None]
    assert [t for t, _ in lines] == [5, 35, 65, 95]
    assert lines[0][1] == (logging.WARNING, "waiting for the cluster: no broker answers at 127.0.0.1:9092,"
                           "127.0.0.1:9093,127.0.0.1:9094; writes are held until it returns")
    assert lines[1][1] == (logging.WARNING, "still waiting for the cluster: no broker answers at 127.0.0.1:9092,"
                           "127.0.0.1:9093,127.0.0.1:9094; writes are held until it returns (for 30 s)")
    assert narrator.unreachable_for_s(120.0) == 115.0
    assert narrator.observe(HEALTHY, 128.0) == (
        logging.INFO, "Kafka cluster back: 3 brokers, all partitions in sync after 123 s")
    assert narrator.unreachable_for_s(130.0) == 0.0 and narrator.bad_for_s(130.0) == 0.0


def test_a_new_state_or_a_new_missing_broker_is_said_at_once_but_moving_counts_are_not() -> None:
    narrator = Narrator()
    narrator.observe(HEALTHY, 0.0)
    assert narrator.observe(degraded(14), 5.0) == (
        logging.WARNING, "Kafka degraded: 14 partitions under-replicated (broker 2 missing); writes go on")
    assert narrator.observe(degraded(20), 10.0) is None
    two_down = Verdict(WAITING, True, brokers=1, partitions=120, under_replicated=120, under_min_isr=40,
                       missing_brokers=(2, 3))
    line = narrator.observe(two_down, 15.0)
    assert line is not None and line[0] == logging.WARNING
    assert line[1] == ("waiting for the cluster: 40 partitions under min ISR (brokers 2, 3 missing); "
                       "acks=all writes to them are held until brokers return (for 10 s)")
    catching_up = narrator.observe(degraded(3, ()), 20.0)
    assert catching_up is not None and "no broker missing: replicas catching up" in catching_up[1]
    assert narrator.observe(degraded(2, ()), 25.0) is None
    assert narrator.observe(degraded(1, ()), 50.0) == (
        logging.WARNING, "Kafka still degraded: 1 partition under-replicated (no broker missing: replicas catching "
                         "up); writes go on (for 45 s)")


def test_a_cluster_that_is_down_when_the_process_starts_is_a_warning_first() -> None:
    narrator = Narrator()
    line = narrator.observe(DOWN, 7.0)
    assert line is not None and line[0] == logging.WARNING and line[1].startswith("waiting for the cluster")
    assert narrator.observe(HEALTHY, 19.0) == (logging.INFO, "Kafka cluster back: 3 brokers, all partitions in sync "
                                                             "after 12 s")


VERDICTS = st.sampled_from([HEALTHY, DOWN, degraded(14), degraded(3), degraded(2, ()), degraded(5, (2, 3)),
                            Verdict(WAITING, True, brokers=1, under_min_isr=4, missing_brokers=(2, 3))])


@settings(max_examples=200, deadline=None)
@given(st.lists(VERDICTS, min_size=1, max_size=200), st.sampled_from([1.0, 5.0, 10.0]))
def test_the_log_says_each_change_once_and_otherwise_at_most_one_reminder_per_30_s(
    verdicts: list[Verdict], step_s: float
) -> None:
    narrator = Narrator()
    lines, changes, previous = 0, 0, None
    for i, v in enumerate(verdicts):
        about = (v.state, v.reachable, v.missing_brokers)
        line = narrator.observe(v, i * step_s)
        if about != previous:
            changes += 1
            assert line is not None, f"the change to {v} at step {i} went unsaid"
        lines += line is not None
        previous = about
    reminders = lines - changes
    assert 0 <= reminders <= len(verdicts) * step_s / REMIND_EVERY_S + 1
