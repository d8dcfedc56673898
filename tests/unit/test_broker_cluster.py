"""The launcher's three-node cluster (pure settings), and docker-compose.yml's `cluster` profile against it."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
import yaml

from broker.config import (
    CLUSTER_HEAP,
    DEFAULT_HEAP,
    MAX_NODES,
    REPO_ROOT,
    BrokerSettings,
    parse_nodes,
    server_properties,
    settings_from_env,
)
from streams.admin import Replication

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
BROKER_DOC = REPO_ROOT / "docs" / "broker.md"
CLUSTER = {"OMNI_KAFKA_NODES": "3"}
NODES = {"kafka-1": 1, "kafka-2": 2, "kafka-3": 3}
CLUSTER_APPS = {"worker-cluster": "worker", "sink-cluster": "sink", "dashboard-cluster": "dashboard",
                "simulator-cluster": "simulator"}
# Where a node listens and keeps its files: 127.0.0.1 ports for the launcher, container names and the image's
# paths for compose. Every other broker setting must be the same in both.
ADDRESS_KEYS = {"listeners", "advertised.listeners", "listener.security.protocol.map", "inter.broker.listener.name",
                "controller.quorum.voters", "log.dirs"}


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services


def env_name(key: str) -> str:
    """The apache/kafka image's environment name for a broker setting (`a.b.c` -> `KAFKA_A_B_C`)."""
    return "KAFKA_" + key.upper().replace(".", "_")


def env_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def host_ports(service: dict[str, Any]) -> list[int]:
    return [int(port.split(":")[1]) for port in service.get("ports", [])]


# ---- the launcher's cluster settings ----


def test_node_i_listens_on_the_first_ports_plus_i_minus_one() -> None:
    cluster = settings_from_env(CLUSTER)
    assert [(n.node_id, n.port, n.controller_port) for n in cluster.nodes_settings] == [
        (1, 9092, 9095), (2, 9093, 9096), (3, 9094, 9097)]
    moved = settings_from_env({**CLUSTER, "OMNI_KAFKA_PORT": "29092"})
    assert [(n.port, n.controller_port) for n in moved.nodes_settings] == [(29092, 29095), (29093, 29096),
                                                                           (29094, 29097)]
    own = settings_from_env({**CLUSTER, "OMNI_KAFKA_CONTROLLER_PORT": "19192"})
    assert [n.controller_port for n in own.nodes_settings] == [19192, 19193, 19194]


def test_the_cluster_and_each_of_its_nodes_bootstrap_from_all_three_addresses() -> None:
    cluster = settings_from_env({**CLUSTER, "OMNI_KAFKA_PORT": "29092"})
    assert cluster.bootstrap == "127.0.0.1:29092,127.0.0.1:29093,127.0.0.1:29094"
    assert {n.bootstrap for n in cluster.nodes_settings} == {cluster.bootstrap}
    assert settings_from_env({}).bootstrap == "127.0.0.1:9092"


def test_each_node_keeps_its_files_in_node_i_and_shares_the_cluster_id_and_lock() -> None:
    cluster = settings_from_env(CLUSTER)
    assert cluster.data == REPO_ROOT / ".run" / "kafka-cluster"
    assert settings_from_env({**CLUSTER, "OMNI_KAFKA_PORT": "29092"}).data == REPO_ROOT / ".run" / "kafka-cluster-29092"
    nodes = cluster.nodes_settings
    assert [n.data for n in nodes] == [cluster.data / f"node-{i}" for i in (1, 2, 3)]
    assert len({n.pidfile for n in nodes}) == len({n.log_file for n in nodes}) == len({n.log_dirs for n in nodes}) == 3
    assert all(n.pidfile.parent == n.data and n.log_dirs.parent == n.data for n in nodes)
    assert {n.cluster_id_file for n in nodes} == {cluster.cluster_id_file} == {cluster.data / "cluster.id"}
    assert {n.lock_file for n in nodes} == {cluster.lock_file} == {cluster.data / "launcher.lock"}


def test_the_static_quorum_names_every_node_at_its_controller_port() -> None:
    cluster = settings_from_env(CLUSTER)
    voters = "1@127.0.0.1:9095,2@127.0.0.1:9096,3@127.0.0.1:9097"
    assert cluster.voters == voters
    assert [server_properties(n)["controller.quorum.voters"] for n in cluster.nodes_settings] == [voters] * 3
    assert settings_from_env({}).voters == "1@127.0.0.1:9093"


def test_each_nodes_properties_carry_its_own_id_and_listeners() -> None:
    for node in settings_from_env(CLUSTER).nodes_settings:
        properties = server_properties(node)
        assert properties["node.id"] == str(node.node_id)
        assert properties["process.roles"] == "broker,controller"
        assert properties["listeners"] == f"PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}"
        assert properties["advertised.listeners"] == f"PLAINTEXT://127.0.0.1:{node.port}"
        assert properties["log.dirs"] == node.log_dirs.as_posix()


@pytest.mark.parametrize(("nodes", "factor", "min_insync"), [("1", 1, 1), ("3", 3, 2), ("5", 3, 2)])
def test_topics_get_three_copies_and_two_in_sync_on_a_cluster_and_one_on_one_node(
    nodes: str, factor: int, min_insync: int,
) -> None:
    settings = settings_from_env({"OMNI_KAFKA_NODES": nodes})
    assert (settings.replication_factor, settings.min_insync_replicas) == (factor, min_insync)
    properties = server_properties(settings.node(1))
    for key in ("default.replication.factor", "offsets.topic.replication.factor",
                "transaction.state.log.replication.factor", "share.coordinator.state.topic.replication.factor"):
        assert properties[key] == str(factor), key
    for key in ("min.insync.replicas", "transaction.state.log.min.isr", "share.coordinator.state.topic.min.isr"):
        assert properties[key] == str(min_insync), key
    assert properties["unclean.leader.election.enable"] == "false"
    # The application decides the same for the topics it creates (OMNI_REPLICATION_FACTOR=0, from the brokers).
    assert Replication.of(min(3, int(nodes))) == Replication(factor, min_insync)


@pytest.mark.parametrize("raw", ["2", "0", "10", str(MAX_NODES + 1), "-3", "three", "3.0"])
def test_parse_nodes_refuses_anything_but_one_or_three_to_nine(raw: str) -> None:
    with pytest.raises(ValueError, match="OMNI_KAFKA_NODES"):
        parse_nodes(raw)
    with pytest.raises(ValueError, match="OMNI_KAFKA_NODES"):
        settings_from_env({"OMNI_KAFKA_NODES": raw})


@pytest.mark.parametrize("raw", ["1", "3", str(MAX_NODES)])
def test_parse_nodes_accepts_one_broker_or_a_cluster_of_three_to_nine(raw: str) -> None:
    assert parse_nodes(raw) == int(raw)


def test_blank_nodes_means_one_broker() -> None:
    settings = settings_from_env({"OMNI_KAFKA_NODES": " "})
    assert (settings.nodes, settings.cluster) == (1, False)


@pytest.mark.parametrize("controller_port", ["9092", "9093", "9094"])
def test_refuses_controller_ports_that_overlap_the_clusters_client_ports(controller_port: str) -> None:
    with pytest.raises(ValueError, match="overlaps the client ports"):
        settings_from_env({**CLUSTER, "OMNI_KAFKA_PORT": "9092", "OMNI_KAFKA_CONTROLLER_PORT": controller_port})


def test_controller_ports_just_below_or_above_the_client_ports_are_accepted() -> None:
    assert settings_from_env({**CLUSTER, "OMNI_KAFKA_CONTROLLER_PORT": "9089"}).voters.endswith("3@127.0.0.1:9091")
    assert settings_from_env({**CLUSTER, "OMNI_KAFKA_CONTROLLER_PORT": "9095"}).node(3).controller_port == 9097


def test_refuses_a_cluster_that_runs_past_the_last_port() -> None:
    with pytest.raises(ValueError, match="65535"):
        settings_from_env({**CLUSTER, "OMNI_KAFKA_PORT": "65533"})


def test_refuses_a_secured_cluster() -> None:
    with pytest.raises(ValueError, match="one node only"):
        settings_from_env({**CLUSTER, "OMNI_KAFKA_SECURE": "1"})


def test_a_cluster_node_gets_512m_of_heap_and_one_broker_1g_unless_set() -> None:
    cluster = settings_from_env(CLUSTER)
    assert [n.heap for n in cluster.nodes_settings] == [CLUSTER_HEAP] * 3 == ["512m"] * 3
    assert settings_from_env({}).heap == DEFAULT_HEAP == "1g"
    assert settings_from_env({**CLUSTER, "OMNI_KAFKA_HEAP": "768m"}).node(2).heap == "768m"


@pytest.mark.parametrize("node_id", [0, 4, -1])
def test_a_node_outside_the_cluster_is_refused(node_id: int) -> None:
    with pytest.raises(ValueError, match="not in this cluster"):
        settings_from_env(CLUSTER).node(node_id)


def test_one_broker_is_its_own_node_one_and_a_node_has_no_nodes() -> None:
    single = settings_from_env({})
    assert single.node(1) is single
    with pytest.raises(ValueError, match="not in this cluster"):
        single.node(2)
    with pytest.raises(ValueError, match="cluster's"):
        settings_from_env(CLUSTER).node(2).node(1)


# ---- docker-compose.yml, profile "cluster" ----


def compose_node(name: str) -> tuple[dict[str, Any], BrokerSettings]:
    return compose_services()[name], settings_from_env(CLUSTER).node(NODES[name])


@pytest.mark.parametrize("name", list(NODES))
def test_compose_nodes_have_the_broker_settings_of_a_launcher_node(name: str) -> None:
    service, node = compose_node(name)
    environment = service["environment"]
    expected = {key: value for key, value in server_properties(node).items() if key not in ADDRESS_KEYS}
    actual = {key: env_text(environment.get(env_name(key))) for key in expected}
    assert actual == expected
    # ... and no broker setting the launcher does not have (beyond addresses and the JVM's heap).
    extra = {k for k in environment if k.startswith("KAFKA_") and k != "KAFKA_HEAP_OPTS"} - {
        env_name(key) for key in server_properties(node)}
    assert not extra
    assert environment["KAFKA_HEAP_OPTS"] == f"-Xmx{node.heap}"
    assert service["image"] == compose_services()["kafka"]["image"]


@pytest.mark.parametrize("name", list(NODES))
def test_compose_nodes_are_one_static_quorum_of_three_voters(name: str) -> None:
    service, node = compose_node(name)
    environment = service["environment"]
    voters = [re.fullmatch(r"(\d+)@([\w-]+):(\d+)", voter) for voter in
              environment["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")]
    assert all(voters)
    ids = [int(v.group(1)) for v in voters if v]
    assert ids == list(node.node_ids) == [1, 2, 3]
    assert [v.group(2) for v in voters if v] == list(NODES)  # voter i is the container kafka-i ...
    controller = re.search(r"CONTROLLER://:(\d+)", environment["KAFKA_LISTENERS"])
    assert controller and {v.group(3) for v in voters if v} == {controller.group(1)}  # ... at its controller port
    assert environment["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"


def test_compose_nodes_share_one_cluster_id_of_their_own() -> None:
    services = compose_services()
    ids = {services[name]["environment"]["CLUSTER_ID"] for name in NODES}
    assert len(ids) == 1
    (cluster_id,) = ids
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", cluster_id)
    assert cluster_id not in {services[name]["environment"]["CLUSTER_ID"] for name in ("kafka", "kafka-secured")}


@pytest.mark.parametrize("name", list(NODES))
def test_compose_nodes_advertise_their_name_inside_and_their_published_port_outside(name: str) -> None:
    service, _ = compose_node(name)
    environment = service["environment"]
    (port,) = host_ports(service)
    assert service["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert service["hostname"] == name
    assert f"EXTERNAL://:{port}" in environment["KAFKA_LISTENERS"].split(",")
    assert environment["KAFKA_ADVERTISED_LISTENERS"].split(",") == [f"INTERNAL://{name}:9092",
                                                                     f"EXTERNAL://127.0.0.1:{port}"]
    assert environment["KAFKA_INTER_BROKER_LISTENER_NAME"] == "INTERNAL"
    assert "healthcheck" in service and service["restart"] == "unless-stopped"


def test_compose_nodes_each_keep_their_log_dir_in_a_volume_of_their_own() -> None:
    services = compose_services()
    mounts = {name: [v for v in services[name]["volumes"] if v.endswith(":/var/lib/kafka/data")] for name in NODES}
    assert all(len(m) == 1 for m in mounts.values())
    volumes = {m[0].split(":")[0] for m in mounts.values()}
    assert len(volumes) == 3
    assert volumes <= set(yaml.safe_load(COMPOSE_FILE.read_text())["volumes"])
    assert not volumes & {v.split(":")[0] for v in services["kafka"]["volumes"]}
    assert all(services[name]["environment"]["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data" for name in NODES)


def test_compose_host_ports_never_clash_and_listen_on_loopback_only() -> None:
    services = compose_services()
    ports = [port for service in services.values() for port in host_ports(service)]
    assert len(ports) == len(set(ports))
    assert all(p.startswith("127.0.0.1:") for service in services.values() for p in service.get("ports", []))
    # Beside a launcher cluster on its default ports (9092 to 9097) too.
    launcher = settings_from_env(CLUSTER)
    taken = {p for n in launcher.nodes_settings for p in (n.port, n.controller_port)}
    assert not taken & {port for name in NODES for port in host_ports(services[name])}


def test_compose_cluster_apps_bootstrap_from_all_three_nodes_and_wait_for_them() -> None:
    from settings import ENV_DEFAULTS

    services = compose_services()
    for name in CLUSTER_APPS:
        environment = services[name]["environment"]
        assert environment["KAFKA_BOOTSTRAP"].split(",") == [f"{node}:9092" for node in NODES], name
        assert set(environment) <= set(ENV_DEFAULTS), (name, set(environment) - set(ENV_DEFAULTS))
        depends_on = services[name]["depends_on"]
        for node in NODES:
            assert depends_on[node]["condition"] == "service_healthy", (name, node)
        assert "kafka" not in depends_on and not any("secured" in other for other in depends_on), name


def test_compose_cluster_apps_run_what_the_default_stack_runs() -> None:
    services = compose_services()
    for name, default in CLUSTER_APPS.items():
        assert services[name]["command"] == services[default]["command"], name
        assert services[name]["image"] == services[default]["image"], name
        assert set(services[name]["environment"]) == set(services[default]["environment"]), name
    assert services["dashboard-cluster"]["environment"]["OMNI_WEB_HOST"] == "worker-cluster"
    assert services["dashboard-cluster"]["environment"]["OMNI_SINK_HOST"] == "sink-cluster"
    assert services["worker-cluster"]["environment"]["OMNI_WEB_HOST"] == "worker-cluster"
    # Their own table state and DuckDB file; the API clients (api-config) are the same.
    state = {name: {v.split(":")[0] for v in services[name]["volumes"]} - {"api-config"} for name in CLUSTER_APPS
             if "volumes" in services[name]}
    defaults = {v.split(":")[0] for name in ("worker", "sink", "dashboard") for v in services[name]["volumes"]}
    assert all(volumes and not volumes & defaults for volumes in state.values()), state


def test_every_service_of_the_cluster_profile_is_in_it_and_needs_nothing_of_another() -> None:
    services = compose_services()
    cluster = {name for name, service in services.items() if "cluster" in service.get("profiles", [])}
    assert cluster == set(NODES) | set(CLUSTER_APPS)
    assert all(services[name]["profiles"] == ["cluster"] for name in cluster)
    for name in cluster:
        for needed in services[name].get("depends_on", {}):
            # a profile's own service, or a profile-less one-shot that needs no broker (the API clients)
            assert needed in cluster or ("profiles" not in services[needed]
                                         and not services[needed].get("depends_on")), (name, needed)


def test_the_broker_doc_lists_the_cluster_profiles_addresses() -> None:
    services = compose_services()
    text = BROKER_DOC.read_text()
    for name in [*NODES, "worker-cluster", "sink-cluster", "dashboard-cluster"]:
        (published,) = services[name]["ports"]
        _, host, inside = published.split(":")
        assert f"| `{name}` | `{name}:{9092 if name in NODES else inside}` | `127.0.0.1:{host}` |" in text, name
    bootstrap = ",".join(f"127.0.0.1:{port}" for name in NODES for port in host_ports(services[name]))
    assert f"KAFKA_BOOTSTRAP={bootstrap}" in text
    assert f"KAFKA_BOOTSTRAP={bootstrap}" in COMPOSE_FILE.read_text()  # the file's header says it too


def test_topics_with_fewer_copies_than_the_cluster_wants_are_warned_about_in_kafka_pythons_3x_shape(
        caplog: pytest.LogCaptureFixture) -> None:
    from kafka.admin import NewTopic

    from streams.admin import _check_partitions

    class Admin:
        def describe_topics(self, names: list[str]) -> list[dict[str, object]]:
            copies = {"full": [1, 2, 3], "thin": [2]}
            return [{"name": n, "partitions": [{"partition_index": 0, "leader_id": copies[n][0],
                                                "replica_nodes": copies[n], "isr_nodes": copies[n]}]} for n in names]

    with caplog.at_level(logging.WARNING, logger="omnistream.topics"):
        _check_partitions(Admin(), [NewTopic("full", 1, 3)], Replication.of(3))  # type: ignore[arg-type]
        assert not caplog.records
        both = [NewTopic("full", 1, 3), NewTopic("thin", 1, 3)]
        _check_partitions(Admin(), both, Replication.of(3))  # type: ignore[arg-type]
    assert len(caplog.records) == 1 and "thin has 1" in caplog.records[0].getMessage()
