"""Unit tests of the broker launcher's pure parts, and of docker-compose.yml against docs/broker.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from broker.acls import PRINCIPALS
from broker.config import (
    DEFAULT_PORT,
    ENV_NAMES,
    REPO_ROOT,
    BrokerSettings,
    client_security,
    kafka_jar_name,
    new_cluster_id,
    read_kafka_version,
    render_log4j2,
    render_properties,
    server_properties,
    settings_from_env,
)
from broker.secured_config import (
    SCRAM_MECHANISM,
    client_env,
    parse_env_file,
    render_env_file,
    secured_properties,
)

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
BROKER_DOC = REPO_ROOT / "docs" / "broker.md"
APP_SERVICES = ("worker", "sink", "simulator")


def parse_properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def documented_env_names() -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", BROKER_DOC.read_text()))


@pytest.fixture
def settings(tmp_path: Path) -> BrokerSettings:
    return settings_from_env({"OMNI_KAFKA_DATA": str(tmp_path / "data"), "OMNI_KAFKA_HOME": str(tmp_path)})


def test_defaults_put_the_broker_on_9092_with_the_controller_on_the_next_port() -> None:
    settings = settings_from_env({})
    assert (settings.port, settings.controller_port) == (DEFAULT_PORT, DEFAULT_PORT + 1)
    assert settings.bootstrap == "127.0.0.1:9092"
    assert settings.heap == "1g"
    assert settings.external_bootstrap is None


def test_defaults_keep_jars_in_cache_and_data_in_run_under_the_repo() -> None:
    settings = settings_from_env({})
    assert settings.home == REPO_ROOT / ".cache" / "kafka"
    assert settings.data == REPO_ROOT / ".run" / "kafka"
    assert settings.libs_dir("4.1.1") == REPO_ROOT / ".cache" / "kafka" / "4.1.1" / "libs"


def test_a_broker_on_another_port_keeps_its_own_data_dir_and_pidfile() -> None:
    assert settings_from_env({"OMNI_KAFKA_PORT": "19892"}).data == REPO_ROOT / ".run" / "kafka-19892"
    assert settings_from_env({"OMNI_KAFKA_PORT": "19892", "OMNI_KAFKA_DATA": "/tmp/k"}).data.as_posix() == "/tmp/k"


def test_controller_port_follows_a_custom_client_port() -> None:
    settings = settings_from_env({"OMNI_KAFKA_PORT": "29092"})
    assert (settings.port, settings.controller_port) == (29092, 29093)


def test_controller_port_can_be_set_on_its_own() -> None:
    assert settings_from_env({"OMNI_KAFKA_CONTROLLER_PORT": "9999"}).controller_port == 9999


@pytest.mark.parametrize("raw", ["abc", "0", "70000", "-1", "90 92"])
def test_rejects_a_port_that_is_not_a_tcp_port_naming_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="OMNI_KAFKA_PORT"):
        settings_from_env({"OMNI_KAFKA_PORT": raw})


def test_rejects_a_controller_port_equal_to_the_client_port() -> None:
    with pytest.raises(ValueError, match="OMNI_KAFKA_CONTROLLER_PORT"):
        settings_from_env({"OMNI_KAFKA_PORT": "9092", "OMNI_KAFKA_CONTROLLER_PORT": "9092"})


def test_blank_port_variables_fall_back_to_the_defaults() -> None:
    assert settings_from_env({"OMNI_KAFKA_PORT": " ", "OMNI_KAFKA_CONTROLLER_PORT": ""}).port == 9092


@pytest.mark.parametrize("heap", ["512m", "1g", "2G", "1048576k"])
def test_accepts_jvm_heap_sizes(heap: str) -> None:
    assert settings_from_env({"OMNI_KAFKA_HEAP": heap}).heap == heap


@pytest.mark.parametrize("heap", ["lots", "1 g", "-Xmx1g", "0m"])
def test_rejects_heap_sizes_the_jvm_would_not_take(heap: str) -> None:
    with pytest.raises(ValueError, match="OMNI_KAFKA_HEAP"):
        settings_from_env({"OMNI_KAFKA_HEAP": heap})


def test_kafka_bootstrap_selects_an_existing_cluster_and_becomes_the_bootstrap() -> None:
    settings = settings_from_env({"KAFKA_BOOTSTRAP": "kafka-1:9092,kafka-2:9092"})
    assert settings.external_bootstrap == "kafka-1:9092,kafka-2:9092"
    assert settings.bootstrap == "kafka-1:9092,kafka-2:9092"


def test_kafka_version_is_read_from_the_pom() -> None:
    pom = (REPO_ROOT / "broker" / "pom.xml").read_text()
    version = read_kafka_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert f"<kafka.version>{version}</kafka.version>" in pom


def test_reading_a_pom_without_kafka_version_says_what_is_missing(
    tmp_path: Path,
) -> None:
    pom = tmp_path / "pom.xml"
    pom.write_text('<project xmlns="http://maven.apache.org/POM/4.0.0"><properties/></project>')
    with pytest.raises(ValueError, match="kafka.version"):
        read_kafka_version(pom)


def test_compose_uses_the_same_kafka_version_as_the_pom() -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{read_kafka_version()}"


def test_the_broker_jar_name_marks_a_complete_fetch() -> None:
    assert kafka_jar_name("4.1.1") == "kafka_2.13-4.1.1.jar"


def test_internal_topics_get_replication_factor_one_and_min_isr_one(
    settings: BrokerSettings,
) -> None:
    properties = parse_properties(render_properties(server_properties(settings)))
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
    ):
        assert properties[key] == "1", key


def test_properties_describe_one_kraft_node_listening_on_loopback_only(
    settings: BrokerSettings,
) -> None:
    properties = parse_properties(render_properties(server_properties(settings)))
    assert properties["process.roles"] == "broker,controller"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert properties["log.dirs"] == (settings.data / "logs").as_posix()


def test_properties_disable_auto_topic_creation_and_the_rebalance_delay(
    settings: BrokerSettings,
) -> None:
    properties = parse_properties(render_properties(server_properties(settings)))
    assert properties["auto.create.topics.enable"] == "false"
    assert properties["group.initial.rebalance.delay.ms"] == "0"


def test_log4j2_writes_broker_log_with_info_for_kafka_server_and_warn_elsewhere(
    settings: BrokerSettings,
) -> None:
    config = parse_properties(render_log4j2(settings).replace(" = ", "="))
    assert config["appender.file.fileName"] == settings.log_file.as_posix()
    assert config["rootLogger.level"] == "warn"
    assert (config["logger.server.name"], config["logger.server.level"]) == (
        "kafka.server",
        "info",
    )


def test_cluster_ids_are_22_url_safe_characters_that_never_start_with_a_dash() -> None:
    ids = {new_cluster_id() for _ in range(500)}
    assert len(ids) == 500
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", value) for value in ids)


def test_security_settings_map_to_kafka_python_options_only_when_set() -> None:
    env = {
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "PLAIN",
        "KAFKA_SASL_USERNAME": "",
    }
    assert client_security(env) == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "PLAIN",
    }


def test_every_launcher_variable_is_documented() -> None:
    assert set(ENV_NAMES) <= documented_env_names()


def test_compose_file_parses_and_app_services_wait_for_a_healthy_kafka() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    assert "healthcheck" in services["kafka"]
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy", name
    assert services["simulator"]["profiles"] == ["demo"]


def test_every_variable_compose_sets_for_app_services_is_a_known_setting() -> None:
    from settings import ENV_DEFAULTS

    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    documented = set(ENV_DEFAULTS)
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["KAFKA_BOOTSTRAP"] == "kafka:9092", name
        assert set(environment) <= documented, (name, set(environment) - documented)


# Where the broker listens and keeps its files differs by design between the launcher and compose.
ADDRESS_KEYS = {"listeners", "advertised.listeners", "listener.security.protocol.map", "inter.broker.listener.name",
                "controller.quorum.voters", "log.dirs"}


def test_every_variable_compose_sets_for_app_services_is_in_the_docs_table() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    section = BROKER_DOC.read_text().partition("## Containers")[2].partition("### The secured profile")[0]
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, re.M))
    apps = [*APP_SERVICES, "dashboard", "worker-cluster", "sink-cluster", "dashboard-cluster", "simulator-cluster"]
    for name in apps:
        assert set(services[name]["environment"]) <= listed, (name, set(services[name]["environment"]) - listed)


@pytest.mark.parametrize("service", ["kafka", "kafka-secured"])
def test_compose_kafka_keeps_the_one_node_settings_of_the_local_broker(service: str) -> None:
    environment = yaml.safe_load(COMPOSE_FILE.read_text())["services"][service]["environment"]
    local = server_properties(settings_from_env({}))
    for key in set(local) - ADDRESS_KEYS:
        assert str(environment.get("KAFKA_" + key.upper().replace(".", "_"))).lower() == local[key].lower(), key


SECURED_APPS = ("worker-secured", "sink-secured", "simulator-secured")


def test_the_secure_flag_gives_the_broker_its_own_data_dir() -> None:
    assert settings_from_env({"OMNI_KAFKA_SECURE": "1"}).data == REPO_ROOT / ".run" / "kafka-secured"
    secured = settings_from_env({"OMNI_KAFKA_SECURE": "yes", "OMNI_KAFKA_PORT": "9392"})
    assert secured.secure and secured.data == REPO_ROOT / ".run" / "kafka-9392-secured"
    assert not settings_from_env({"OMNI_KAFKA_SECURE": "0"}).secure


def test_rejects_a_secure_flag_that_is_neither_on_nor_off() -> None:
    with pytest.raises(ValueError, match="OMNI_KAFKA_SECURE"):
        settings_from_env({"OMNI_KAFKA_SECURE": "maybe"})


def test_the_plain_broker_has_no_authorizer_and_no_sasl(settings: BrokerSettings) -> None:
    properties = server_properties(settings)
    assert "authorizer.class.name" not in properties and "sasl.enabled.mechanisms" not in properties


def test_the_secured_broker_speaks_sasl_ssl_to_clients_and_plaintext_to_its_controller_on_loopback(
    settings: BrokerSettings,
) -> None:
    properties = {**server_properties(settings), **secured_properties(settings, "pw-admin", "pw-store")}
    assert properties["listeners"] == "SASL_SSL://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert properties["advertised.listeners"] == "SASL_SSL://127.0.0.1:9092"
    assert properties["listener.security.protocol.map"] == "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"
    assert properties["sasl.enabled.mechanisms"] == SCRAM_MECHANISM
    assert properties["sasl.mechanism.inter.broker.protocol"] == SCRAM_MECHANISM
    assert 'username="admin" password="pw-admin"' in properties[
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"]
    assert properties["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    assert properties["super.users"] == "User:admin;User:ANONYMOUS"
    assert properties["ssl.truststore.location"] == settings.ca_file.as_posix()


def test_a_principals_env_file_holds_every_client_setting_and_reads_back(settings: BrokerSettings) -> None:
    env = client_env(settings, "till", "s3cret")
    assert parse_env_file(render_env_file(env)) == env
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and env["KAFKA_SASL_USERNAME"] == "till"
    assert env["KAFKA_SSL_CAFILE"] == settings.ca_file.as_posix()
    from settings import KafkaSecurity

    security = KafkaSecurity.from_env(env)
    assert security.sasl_mechanism == SCRAM_MECHANISM and security.sasl_password == "s3cret"


def test_compose_secured_kafka_has_the_launchers_security_settings() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    environment = services["kafka-secured"]["environment"]
    local = secured_properties(settings_from_env({}), "x", "y")
    for key in ("authorizer.class.name", "allow.everyone.if.no.acl.found", "super.users", "sasl.enabled.mechanisms",
                "sasl.mechanism.inter.broker.protocol", "inter.broker.listener.name"):
        assert str(environment["KAFKA_" + key.upper().replace(".", "_")]) == local[key], key
    assert "CONTROLLER:PLAINTEXT" in environment["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
    assert "PLAINTEXT" not in environment["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].replace("CONTROLLER:PLAINTEXT", "")
    assert services["kafka-secured"]["image"] == services["kafka"]["image"]
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_AUTO_CREATE_TOPICS_ENABLE"):
        assert environment[key] == services["kafka"]["environment"][key], key


def test_compose_secured_services_are_in_the_secured_profile_and_use_their_own_principal() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    secured = [name for name, service in services.items() if "secured" in service.get("profiles", [])]
    assert set(secured) == {"kafka-secrets", "kafka-secured-format", "kafka-secured", "kafka-acls", *SECURED_APPS}
    principals = {"worker-secured": "worker", "sink-secured": "sink", "simulator-secured": "simulator"}
    for name, principal in principals.items():
        assert principal in PRINCIPALS
        command = " ".join(services[name]["command"])
        assert f"/kafka-secured/secrets/{principal}.env" in command, name
        assert len(re.findall(r"/kafka-secured/secrets/\w+\.env", command)) == 1, name  # one login, not two
        assert services[name]["depends_on"]["kafka-acls"]["condition"] == "service_completed_successfully"
    assert services["kafka-acls"]["command"] == ["python", "-m", "broker", "acls"]
    assert services["kafka-acls"]["environment"]["OMNI_KAFKA_SECURE"] == "1"


def test_every_variable_compose_sets_for_secured_app_services_is_a_known_setting() -> None:
    from settings import ENV_DEFAULTS

    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    for name in SECURED_APPS:
        assert set(services[name]["environment"]) <= set(ENV_DEFAULTS), name


def test_compose_workers_and_the_dashboard_know_the_api_clients_minted_once() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    assert "ops.tokens add" in " ".join(services["api-clients"]["command"])
    for name in ("worker", "dashboard", "worker-secured"):
        service = services[name]
        assert service["environment"]["OMNI_CLIENTS_FILE"] == "/data/config/clients.json", name
        assert service["depends_on"]["api-clients"]["condition"] == "service_completed_successfully", name
        assert "api-config:/data/config:ro" in service["volumes"], name
