"""The secured broker's files: certificates a client can verify, one 0600 secrets file per principal, made once."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from broker import secure
from broker.acls import PRINCIPALS
from broker.config import BrokerSettings
from broker.secured_config import parse_env_file


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> BrokerSettings:
    settings = BrokerSettings(port=19392, controller_port=19393, home=Path("/nonexistent"),
                              data=tmp_path_factory.mktemp("secured"), heap="512m", secure=True)
    secure.prepare(settings)
    return settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_principal_and_the_broker_itself_get_a_0600_secrets_file_with_a_random_password(
    prepared: BrokerSettings,
) -> None:
    passwords = set()
    for principal in ("admin", *PRINCIPALS):
        path = prepared.secrets_file(principal)
        assert mode(path) == 0o600, path
        env = parse_env_file(path.read_text())
        assert env["KAFKA_SASL_USERNAME"] == principal and env["KAFKA_BOOTSTRAP"] == "127.0.0.1:19392"
        assert len(env["KAFKA_SASL_PASSWORD"]) == 48
        passwords.add(env["KAFKA_SASL_PASSWORD"])
    assert len(passwords) == len(PRINCIPALS) + 1
    assert mode(prepared.secrets_dir) == 0o700


def test_the_broker_certificate_is_signed_by_the_ca_clients_get_and_names_loopback(prepared: BrokerSettings) -> None:
    tls = prepared.tls_dir
    verified = subprocess.run(["openssl", "verify", "-CAfile", str(prepared.ca_file), str(tls / "broker.pem")],
                              capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stderr
    names = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", str(tls / "broker.pem")],
                           capture_output=True, text=True, check=True).stdout
    assert "IP Address:127.0.0.1" in names and "DNS:localhost" in names and "DNS:kafka-secured" in names
    for private in ("ca.key", "broker.key", "broker.p12", "keystore.password", "broker_jaas.conf"):
        assert mode(tls / private) == 0o600, private


def test_preparing_again_keeps_the_passwords_and_the_certificates(prepared: BrokerSettings) -> None:
    before = {p: prepared.secrets_file(p).read_text() for p in PRINCIPALS}
    ca = prepared.ca_file.read_bytes()
    secure.prepare(prepared)
    assert {p: prepared.secrets_file(p).read_text() for p in PRINCIPALS} == before
    assert prepared.ca_file.read_bytes() == ca


def test_storage_is_formatted_with_the_brokers_own_scram_user(prepared: BrokerSettings) -> None:
    flag, value = secure.format_arguments(prepared)
    assert flag == "--add-scram"
    assert value == f"SCRAM-SHA-512=[name=admin,password={secure.password(prepared, 'admin')}]"
