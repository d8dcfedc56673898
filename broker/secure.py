"""The secured broker's files and accounts: TLS certificates, SCRAM passwords, per-principal env files, ACLs."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from broker import acls
from broker.config import BrokerSettings, render_properties
from broker.secured_config import (
    ADMIN_USER,
    SCRAM_MECHANISM,
    admin_client_properties,
    client_env,
    parse_env_file,
    render_broker_jaas,
    render_env_file,
)

log = logging.getLogger("omnistream.broker")

CERT_DAYS = 825  # the longest lifetime clients still accept for a server certificate
OPENSSL_HINT = "install OpenSSL (Debian/Ubuntu: apt-get install openssl)"


def prepare(settings: BrokerSettings) -> None:
    """Certificates and every principal's password, made once per data dir (the next starts reuse them)."""
    settings.tls_dir.mkdir(parents=True, exist_ok=True)  # ca.pem is public; the keys in it are 0600
    settings.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for principal in (ADMIN_USER, *acls.PRINCIPALS):
        if not settings.secrets_file(principal).exists():
            _write_secret(settings.secrets_file(principal), render_env_file(
                client_env(settings, principal, secrets.token_hex(24))))
    if not settings.keystore_file.exists():
        make_certificates(settings)
    # For the apache/kafka image (docker-compose.yml): the broker's JAAS file and its healthcheck's client config.
    admin = password(settings, ADMIN_USER)
    for name, text in (("broker_jaas.conf", render_broker_jaas(admin)),
                       ("admin-client.properties", render_properties(admin_client_properties(settings, admin)))):
        if not (settings.tls_dir / name).exists():
            _write_secret(settings.tls_dir / name, text)


def password(settings: BrokerSettings, principal: str) -> str:
    return principal_env(settings, principal)["KAFKA_SASL_PASSWORD"]


def principal_env(settings: BrokerSettings, principal: str) -> dict[str, str]:
    """The KAFKA_* settings of `principal`, from its secrets file (bootstrap as this launcher sees it now)."""
    values = parse_env_file(settings.secrets_file(principal).read_text())
    return {**values, "KAFKA_BOOTSTRAP": settings.bootstrap}


def admin_security(settings: BrokerSettings) -> dict[str, Any]:
    """kafka-python options for the broker's own super user (the readiness probe, users, ACLs)."""
    return {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": SCRAM_MECHANISM,
        "sasl_plain_username": ADMIN_USER,
        "sasl_plain_password": password(settings, ADMIN_USER),
        "ssl_cafile": str(settings.ca_file),
    }


def format_arguments(settings: BrokerSettings) -> list[str]:
    """`--add-scram` for `StorageTool format`: the broker's own user must exist before the broker can start."""
    return ["--add-scram", f"{SCRAM_MECHANISM}=[name={ADMIN_USER},password={password(settings, ADMIN_USER)}]"]


def keystore_password(settings: BrokerSettings) -> str:
    return _keystore_password_file(settings).read_text().strip()


def _keystore_password_file(settings: BrokerSettings) -> Path:
    path = settings.tls_dir / "keystore.password"
    if not path.exists():
        _write_secret(path, secrets.token_hex(16) + "\n")
    return path


def make_certificates(settings: BrokerSettings) -> None:
    """A CA of this data dir, and the broker's certificate it signs, as PKCS12. The names cover the local broker
    (127.0.0.1, localhost) and docker-compose.yml's (kafka, kafka-secured)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError(f"openssl was not found: {OPENSSL_HINT}.")
    tls = settings.tls_dir
    log.info("Making the CA and the broker certificate in %s", tls)
    days = str(CERT_DAYS)
    _run(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
         "-days", days, "-subj", "/CN=Omnistream local Kafka CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=tls)
    _run(openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr",
         "-subj", "/CN=localhost", cwd=tls)
    (tls / "broker.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kafka,DNS:kafka-secured\n"
        "extendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n")
    _run(openssl, "x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "broker.pem", "-days", days, "-extfile", "broker.ext", cwd=tls)
    passout = f"file:{_keystore_password_file(settings)}"
    _run(openssl, "pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker.key", "-certfile", "ca.pem",
         "-name", "broker", "-out", settings.keystore_file.name, "-passout", passout, cwd=tls)
    for private in ("ca.key", "broker.key", settings.keystore_file.name):
        os.chmod(tls / private, 0o600)


def admin_client(settings: BrokerSettings) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=settings.bootstrap, client_id="omnistream-broker-admin",
                            request_timeout_ms=30_000, **admin_security(settings))


def ensure_users(settings: BrokerSettings, principals: tuple[str, ...] = acls.PRINCIPALS) -> list[str]:
    """Give every principal without a SCRAM credential the password in its secrets file; the names created."""
    admin = admin_client(settings)
    try:
        known = admin.describe_user_scram_credentials()
        missing = [p for p in principals if not (known.get(p) or {}).get("credential_infos")]
        if missing:
            _upsert(admin, {p: password(settings, p) for p in missing})
        return missing
    finally:
        admin.close()


def rotate(settings: BrokerSettings, principal: str) -> Path:
    """A new random password for `principal`, on the broker and in its secrets file (restart its processes)."""
    if principal not in acls.PRINCIPALS:
        raise ValueError(f"unknown principal {principal!r}; one of {', '.join(acls.PRINCIPALS)}")
    new = secrets.token_hex(24)
    admin = admin_client(settings)
    try:
        _upsert(admin, {principal: new})
    finally:
        admin.close()
    _write_secret(settings.secrets_file(principal), render_env_file(client_env(settings, principal, new)))
    return settings.secrets_file(principal)


def apply_acls(settings: BrokerSettings, prefix: str, app_id: str) -> tuple[int, int]:
    """Make the broker's ALLOW ACLs of the service principals those of `acls.grants`: create the missing ones and
    delete the ones the map owns but no longer gives (`acls.stale`); (created, deleted). Idempotent."""
    admin = admin_client(settings)
    try:
        everything = ACLFilter(principal=None, host=None, operation=ACLOperation.ANY,
                               permission_type=ACLPermissionType.ANY,
                               resource_pattern=ResourcePatternFilter(ResourceType.ANY, None,
                                                                      ACLResourcePatternType.ANY))
        existing, error = admin.describe_acls(everything)
        if error.errno:
            raise RuntimeError(f"describing the broker's ACLs failed: {error}")
        have = {_key(acl) for acl in existing}
        missing = [acl for acl in map(to_acl, acls.grants(prefix, app_id)) if _key(acl) not in have]
        for start in range(0, len(missing), 200):
            result = admin.create_acls(missing[start:start + 200])
            if result["failed"]:
                raise RuntimeError(f"creating ACLs failed: {result['failed'][:3]}")
        on_broker = [grant for grant in map(to_grant, existing) if grant is not None]
        gone = [_exactly(to_acl(grant)) for grant in acls.stale(on_broker, prefix, app_id)]
        for start in range(0, len(gone), 200):
            failed = [error for _, _, error in admin.delete_acls(gone[start:start + 200]) if error.errno]
            if failed:
                raise RuntimeError(f"deleting ACLs failed: {failed[:3]}")
        return len(missing), len(gone)
    finally:
        admin.close()


def to_acl(grant: acls.Grant) -> ACL:
    pattern = ACLResourcePatternType.PREFIXED if grant.pattern == acls.PREFIXED else ACLResourcePatternType.LITERAL
    return ACL(principal=f"User:{grant.principal}", host=grant.host, operation=ACLOperation[grant.operation],
               permission_type=ACLPermissionType.ALLOW,
               resource_pattern=ResourcePattern(ResourceType[grant.resource.upper()], grant.name, pattern))


def to_grant(acl: ACL) -> acls.Grant | None:
    """The grant an ALLOW ACL of a user on a literal or prefixed name is; None for what the map never writes (a
    DENY, another kind of principal or pattern), which is never deleted."""
    kind, _, user = acl.principal.partition(":")
    r = acl.resource_pattern
    patterns = {ACLResourcePatternType.LITERAL: acls.LITERAL, ACLResourcePatternType.PREFIXED: acls.PREFIXED}
    if kind != "User" or acl.permission_type != ACLPermissionType.ALLOW or r.pattern_type not in patterns:
        return None
    return acls.Grant(user, ResourceType(r.resource_type).name.lower(), patterns[r.pattern_type], r.resource_name,
                      ACLOperation(acl.operation).name, acl.host)


def _exactly(acl: ACL) -> ACLFilter:
    """A filter that matches this one ACL (a filter's LITERAL or PREFIXED pattern type matches only its own)."""
    r = acl.resource_pattern
    return ACLFilter(principal=acl.principal, host=acl.host, operation=acl.operation,
                     permission_type=acl.permission_type,
                     resource_pattern=ResourcePatternFilter(r.resource_type, r.resource_name, r.pattern_type))


def _key(acl: ACL) -> tuple[Any, ...]:
    r = acl.resource_pattern
    return (acl.principal, acl.host, int(acl.operation), int(acl.permission_type), int(r.resource_type),
            r.resource_name, int(r.pattern_type))


def _upsert(admin: KafkaAdminClient, passwords: dict[str, str]) -> None:
    result = admin.alter_user_scram_credentials(
        [UserScramCredentialUpsertion(user, ScramMechanism.SCRAM_SHA_512, pw) for user, pw in passwords.items()])
    failed = {user: error for user, error in result.items() if error}
    if failed:
        raise RuntimeError(f"setting SCRAM credentials failed: {failed}")


def _write_secret(path: Path, text: str) -> None:
    # Created 0600 before anything is written: a password never sits in a world-readable file.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _run(*command: str, cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, check=False, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
