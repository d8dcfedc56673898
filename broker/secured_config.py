"""Rendered config of the secured broker and its clients: SASL_SSL listener, SCRAM logins, ACL authorizer (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from broker.config import HOST, BrokerSettings

# The secured broker: SCRAM over TLS for clients, the broker's own user is the only super user
# besides the controller listener's ANONYMOUS (docs/broker.md, "Secured broker").
SCRAM_MECHANISM = "SCRAM-SHA-512"
ADMIN_USER = "admin"
SECURE_LISTENER = "SASL_SSL"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


def secured_properties(settings: BrokerSettings, admin_password: str, keystore_password: str) -> dict[str, str]:
    """What turns the plain broker into the secured one: the client listener speaks SASL_SSL with
    SCRAM-SHA-512, the broker authenticates to itself as `admin`, and the StandardAuthorizer denies
    whatever no ACL allows. The controller listener stays PLAINTEXT on 127.0.0.1: its principal
    is ANONYMOUS, which must be a super user for the broker to register with its controller."""
    broker, controller = f"{HOST}:{settings.port}", f"{HOST}:{settings.controller_port}"
    jaas = scram_login(ADMIN_USER, admin_password)
    listener = SECURE_LISTENER.lower()
    return {
        "listeners": f"{SECURE_LISTENER}://{broker},CONTROLLER://{controller}",
        "advertised.listeners": f"{SECURE_LISTENER}://{broker}",
        "listener.security.protocol.map": f"{SECURE_LISTENER}:SASL_SSL,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": SECURE_LISTENER,
        "sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISM,
        f"listener.name.{listener}.{SCRAM_MECHANISM.lower()}.sasl.jaas.config": jaas,
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": settings.keystore_file.as_posix(),
        "ssl.keystore.password": keystore_password,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": settings.ca_file.as_posix(),
        "authorizer.class.name": AUTHORIZER,
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{ADMIN_USER};User:ANONYMOUS",
    }


def scram_login(user: str, password: str) -> str:
    """The JAAS login line of a SCRAM user (the broker's own, as a client of itself)."""
    return f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{user}" password="{password}";'


def render_broker_jaas(admin_password: str) -> str:
    """A JAAS file for the apache/kafka image (KAFKA_OPTS=-Djava.security.auth.login.config=...)."""
    return f"KafkaServer {{\n  {scram_login(ADMIN_USER, admin_password)}\n}};\n"


def admin_client_properties(settings: BrokerSettings, admin_password: str) -> dict[str, str]:
    """A Java client config (kafka-*.sh --command-config) for the broker's own super user."""
    return {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": SCRAM_MECHANISM,
        "sasl.jaas.config": scram_login(ADMIN_USER, admin_password),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": settings.ca_file.as_posix(),
    }


def client_env(settings: BrokerSettings, user: str, password: str) -> dict[str, str]:
    """The KAFKA_* settings (settings.KafkaSecurity) a process uses to reach the secured broker as `user`."""
    return {
        "KAFKA_BOOTSTRAP": settings.bootstrap,
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": SCRAM_MECHANISM,
        "KAFKA_SASL_USERNAME": user,
        "KAFKA_SASL_PASSWORD": password,
        "KAFKA_SSL_CAFILE": settings.ca_file.as_posix(),
    }


def render_env_file(values: Mapping[str, str]) -> str:
    """`NAME=value` lines, readable by `set -a; . file` and by docker compose `env_file`."""
    return "".join(f"{key}={value}\n" for key, value in values.items())


def parse_env_file(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}
