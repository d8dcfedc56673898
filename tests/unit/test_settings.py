"""Settings: defaults, and Kafka security passed the same way to every client."""

from __future__ import annotations

import pytest

from settings import ENV_DEFAULTS, KafkaSecurity, Settings


def test_defaults_point_at_the_local_broker_and_the_run_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    s = Settings.from_env()
    assert s.bootstrap == "127.0.0.1:9092" and s.store == "rocksdb://" and s.replication_factor == 0
    assert s.analytics_path.name == "analytics.duckdb" and s.analytics_path.parent == s.duckdb_path.parent


def test_sasl_ssl_settings_reach_kafka_python_and_aiokafka_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "omni")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "secret")
    security = Settings.from_env().security
    plain = security.kafka_python_kwargs()
    asyncio_side = security.aiokafka_kwargs()
    for kwargs in (plain, asyncio_side):
        assert kwargs["security_protocol"] == "SASL_SSL"
        assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
        assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("omni", "secret")
    assert asyncio_side["ssl_context"] is not None and "ssl_cafile" in plain


def test_plaintext_adds_no_credentials() -> None:
    assert KafkaSecurity.from_env({}).kafka_python_kwargs() == {"security_protocol": "PLAINTEXT"}
    assert KafkaSecurity.from_env({}).ssl_context() is None


def test_a_setting_is_parsed_by_its_fields_type_and_a_bad_value_names_the_variable() -> None:
    s = Settings.from_env({"OMNI_WEB_PORT": "7001", "OMNI_EXCLUDED_SKUS": "GIFT-1, TOB-2,",
                           "OMNI_ANALYTICS_PATH": "/x/a.db"})
    assert s.web_port == 7001 and s.excluded_skus == frozenset({"GIFT-1", "TOB-2"})
    assert str(s.analytics_path) == "/x/a.db"
    with pytest.raises(ValueError, match="OMNI_SINK_BATCH_MAX='lots' is not a valid int"):
        Settings.from_env({"OMNI_SINK_BATCH_MAX": "lots"})


def test_every_field_is_declared_once_as_a_setting_or_derived_from_one() -> None:
    import dataclasses

    declared = {f.name for f in dataclasses.fields(Settings) if "env" in f.metadata}
    derived = {"security", "fraud", "fraud_join_grace_s", "extra"}
    assert declared | derived == {f.name for f in dataclasses.fields(Settings)} and not declared & derived
    assert len(ENV_DEFAULTS) == len(declared) + len(dataclasses.fields(KafkaSecurity)) + len(
        [n for n in ENV_DEFAULTS if n.startswith("OMNI_FRAUD_") and n != "OMNI_FRAUD_WEBHOOK_URL"])
