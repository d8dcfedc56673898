"""`--kafka-nodes N` of the pipeline and inventory benches: which broker or cluster it names, and what a run reports."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pytest

from bench import inventory, pipeline
from bench.brokers import CLUSTER_FIRST_PORT, BenchBroker, broker_settings
from bench.stack import one_copy_bytes
from broker import Broker
from broker.config import DEFAULT_PORT, settings_from_env
from streams.admin import Replication

Parse = Callable[[list[str] | None], argparse.Namespace]
BENCHES = [pipeline.parse_args, inventory.parse_args]


@pytest.mark.parametrize("parse", BENCHES)
def test_a_bench_runs_on_one_broker_unless_told_otherwise(parse: Parse) -> None:
    assert parse([]).kafka_nodes == 1
    assert parse(["--quick", "--kafka-nodes", "3"]).kafka_nodes == 3


@pytest.mark.parametrize("parse", BENCHES)
@pytest.mark.parametrize("nodes", ["2", "0", "10", "three"])
def test_a_cluster_the_launcher_cannot_run_is_refused_before_anything_starts(parse: Parse, nodes: str) -> None:
    with pytest.raises(SystemExit):
        parse(["--kafka-nodes", nodes])


def test_the_inventory_bench_keeps_nodes_for_the_stock_network_beside_kafka_nodes() -> None:
    args = inventory.parse_args(["--nodes", "5", "--kafka-nodes", "3"])
    assert (args.nodes, args.kafka_nodes) == (5, 3)


def test_one_node_is_the_launchers_broker_as_before_whatever_omni_kafka_nodes_says() -> None:
    env = {"OMNI_KAFKA_NODES": "3"}
    assert broker_settings(1, env) == settings_from_env({})
    assert broker_settings(1, env).bootstrap == f"127.0.0.1:{DEFAULT_PORT}"
    assert broker_settings(1, {"OMNI_KAFKA_PORT": "29300"}).port == 29300


def test_a_cluster_gets_ports_and_a_data_dir_of_its_own_clear_of_the_dev_broker_and_a_dev_cluster() -> None:
    cluster = broker_settings(3, {})
    assert cluster.nodes == 3 and cluster.port == CLUSTER_FIRST_PORT
    assert cluster.bootstrap == ",".join(f"127.0.0.1:{CLUSTER_FIRST_PORT + k}" for k in range(3))
    dev_cluster = settings_from_env({"OMNI_KAFKA_NODES": "3"})
    taken = {port for s in (settings_from_env({}), dev_cluster) for n in s.nodes_settings
             for port in (n.port, n.controller_port)}
    ours = {port for n in cluster.nodes_settings for port in (n.port, n.controller_port)}
    assert not ours & taken
    assert cluster.data not in (settings_from_env({}).data, dev_cluster.data)
    assert (cluster.replication_factor, cluster.min_insync_replicas) == (3, 2)


def test_omni_kafka_port_places_the_cluster_where_it_says() -> None:
    cluster = broker_settings(3, {"OMNI_KAFKA_PORT": "29400", "OMNI_KAFKA_DATA": "/tmp/bench-cluster"})
    assert cluster.bootstrap.split(",")[-1] == "127.0.0.1:29402"
    assert str(cluster.node(2).data) == "/tmp/bench-cluster/node-2"


def test_a_cluster_is_not_started_when_kafka_bootstrap_names_another() -> None:
    with pytest.raises(ValueError, match="KAFKA_BOOTSTRAP"):
        broker_settings(3, {"KAFKA_BOOTSTRAP": "kafka.example:9092"})
    assert broker_settings(1, {"KAFKA_BOOTSTRAP": "kafka.example:9092"}).external_bootstrap == "kafka.example:9092"


def test_every_node_of_a_cluster_is_metered_by_name_and_the_result_says_how_topics_were_replicated() -> None:
    cluster = BenchBroker(broker_settings(3, {}), Broker("b", started_here=True, pid=11, pids={2: 12, 1: 11, 3: 13}),
                          "4.1.1", 3, Replication.of(3))
    assert cluster.pids() == {"broker-1": 11, "broker-2": 12, "broker-3": 13}
    assert cluster.result_fields() == {"kafka_nodes": 3, "replication_factor": 3, "min_insync_replicas": 2}
    single = BenchBroker(broker_settings(1, {}), Broker("b", started_here=False, pid=7), "4.1.1", 1, Replication.of(1))
    assert single.pids() == {"broker": 7}
    assert single.result_fields() == {"kafka_nodes": 1, "replication_factor": 1, "min_insync_replicas": 1}


def log_dir(*topics: tuple[str, list[tuple[int, int]]]) -> dict[str, Any]:
    """One broker's DescribeLogDirs entry, as kafka-python returns it: (topic, [(partition, bytes)])."""
    described = [{"name": name, "partitions": [{"partition_index": i, "partition_size": size} for i, size in parts]}
                 for name, parts in topics]
    return {"log_dirs": [{"topics": described}]}


def test_topic_bytes_count_one_copy_of_each_partition_however_many_brokers_hold_one() -> None:
    cluster = [log_dir(("run.a", [(0, 100), (1, 50)]), ("other.a", [(0, 999)])),
               log_dir(("run.a", [(0, 90), (1, 50)]), ("app-stock-changelog", [(0, 7)])),
               log_dir(("run.a", [(1, 60)]), ("app-stock-changelog", [(0, 7)]))]
    assert one_copy_bytes(cluster, ("run.", "app")) == {"run.a": 160, "app-stock-changelog": 7}
    assert one_copy_bytes(cluster[:1], ("run.",)) == {"run.a": 150}
