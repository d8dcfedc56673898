"""Scoring alerts against labelled cases, and the offline run of a seeded day with fraud."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analytics.fraud_eval import RULES, alert_keys, score
from analytics.fraud_offline import run_offline
from domain.fraud import FraudRules
from sim.config import SimConfig
from sim.fraud import FraudCase


def alert(rule: str, entity: str, alert_id: str = "a1", **evidence: Any) -> dict[str, Any]:
    return {"alert_id": alert_id, "rule": rule, "entity_id": entity, "evidence": [evidence], "summary": ""}


def test_an_alert_matches_a_label_of_its_rule_on_entity_or_evidence_ids() -> None:
    assert alert_keys(alert("redemption_velocity", "idh-1", key="st-001")) == {"idh-1"}
    assert alert_keys(alert("return_above_value", "st-001", return_id="rt-1")) == {"rt-1"}
    assert alert_keys(alert("till_price_below_central", "st-001-c02", receipt_id="rc-1")) == {"rc-1"}
    assert alert_keys(alert("buy_earn_return", "cus-1", key="st-001/rc-1")) == {"cus-1", "st-001/rc-1"}


def test_score_counts_true_and_false_positives_and_misses_per_rule() -> None:
    labels = [FraudCase("return_above_value", ("rt-1",), "x"), FraudCase("return_above_value", ("rt-2",), "y"),
              FraudCase("linked_accounts", ("idh-9",), "z")]
    alerts = [alert("return_above_value", "st-1", "a1", return_id="rt-1"),
              alert("return_above_value", "st-1", "a2", return_id="rt-7"),
              alert("return_without_purchase", "st-1", "a3", return_id="rt-2")]  # the wrong rule
    scores = score(alerts, labels)
    above = scores["return_above_value"]
    assert (above.true_positives, above.false_positives, above.false_negatives) == (1, 1, 1)
    assert above.precision == 0.5 and above.recall == 0.5 and above.missed == ["y"]
    assert scores["return_without_purchase"].precision == 0.0 and scores["return_without_purchase"].recall is None
    assert scores["linked_accounts"].recall == 0.0 and scores["linked_accounts"].precision is None
    assert list(scores)[: len(RULES)] == list(RULES)


def test_several_alerts_on_one_case_are_all_true_positives_and_detect_it_once() -> None:
    labels = [FraudCase("buy_earn_return", ("cus-1", "st-1/rc-1", "st-1/rc-2"), "loop")]
    alerts = [alert("buy_earn_return", "cus-1", "a1", key="st-1/rc-1"),
              alert("buy_earn_return", "cus-2", "a2", key="st-1/rc-2")]
    s = score(alerts, labels)["buy_earn_return"]
    assert (s.true_positives, s.false_positives, s.false_negatives, s.recall) == (2, 0, 0, 1.0)


@pytest.fixture(scope="module")
def offline() -> dict[str, Any]:
    run = run_offline(SimConfig(events=10_000, seed=42), FraudRules(), b"")
    return score([a.model_dump(mode="json") for a in run.alerts], run.labels)


def test_on_the_seeded_demo_day_every_injected_case_is_detected(offline: dict[str, Any]) -> None:
    for rule in RULES:
        assert offline[rule].labels > 0, rule
        assert offline[rule].recall == 1.0, (rule, offline[rule].missed)


# Measured on this seed (docs/fraud.md): no false positives at 10,000 events. Larger days do
# show some (supervisors' voids, one customer's own identifiers); see the docs.
PRECISION_FLOOR = dict.fromkeys(RULES, 1.0)


def test_on_the_seeded_demo_day_precision_per_rule_is_at_least_the_measured_floor(offline: dict[str, Any]) -> None:
    for rule in RULES:
        assert offline[rule].precision >= PRECISION_FLOOR[rule], (rule, offline[rule].false_positive_ids)


def test_alerts_are_read_from_the_analytics_snapshot_with_their_evidence(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import duckdb

    from analytics.fraud_eval import alerts_from_duckdb
    from analytics.sql_files import sql

    path = tmp_path / "analytics.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(sql("fct_fraud_alerts"))
        con.execute("insert into fct_fraud_alerts values ('a1', 'return_above_value', 'high', 'store', 'st-001', "
                    "now(), now(), 's', '[{\"return_id\": \"rt-1\"}]', now(), now())")
    [row] = alerts_from_duckdb(path)
    assert row["evidence"] == [{"return_id": "rt-1"}] and alert_keys(row) == {"rt-1"}


def test_scoring_without_labels_says_where_they_come_from_instead_of_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from analytics.fraud_eval import main

    assert main(["--labels", str(tmp_path / "none.jsonl"), "--duckdb", str(tmp_path / "a.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "no fraud labels at" in err and "--offline" in err and "make demo" in err
