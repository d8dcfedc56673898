"""Labelled fraud in a simulated day: deterministic, complete cases, normal traffic untouched."""

from __future__ import annotations

from collections import Counter

import pytest

from domain.identity import hashed_device
from sim.config import SimConfig
from sim.day import simulate
from sim.fraud import FraudCase, read_labels, write_labels
from sim.fraud_scenarios import SCENARIOS
from sim.publish import run
from streams.customers import CustomerDeviceSeen
from streams.pos import PosReturn, PosSale

# About 4,000 events of traffic after the opening stock and the ~90 records of the price book's catalogue.
CONFIG = SimConfig(events=4_100, seed=5, stores=12, skus=80, customers=400, fraud=0.004)


@pytest.fixture(scope="module")
def labelled() -> tuple[list, list[FraudCase]]:  # type: ignore[type-arg]
    labels: list[FraudCase] = []
    return list(simulate(CONFIG, labels, b"k")), labels


def test_every_rule_gets_labelled_cases_and_the_day_keeps_its_size(labelled) -> None:  # type: ignore[no-untyped-def]
    day, labels = labelled
    assert len(day) == CONFIG.events
    assert set(Counter(case.rule for case in labels)) == set(SCENARIOS)
    assert all(case.match and case.description for case in labels)


def test_the_same_seed_gives_the_same_cases_and_events(labelled) -> None:  # type: ignore[no-untyped-def]
    again: list[FraudCase] = []
    assert [e for _, _, e in simulate(CONFIG, again, b"k")] == [e for _, _, e in labelled[0]]
    assert again == labelled[1]


def test_labels_match_the_events_that_were_sent(labelled) -> None:  # type: ignore[no-untyped-def]
    day, labels = labelled
    returns = {e.return_id for _, _, e in day if isinstance(e, PosReturn)}
    receipts = {e.receipt_id for _, _, e in day if isinstance(e, PosSale)}
    for case in labels:
        if case.rule.startswith("return_"):
            assert case.match[0] in returns
        if case.rule == "till_price_below_central":
            assert case.match[0] in receipts


def test_fraud_off_sends_no_cases_and_the_normal_days_choices_are_kept() -> None:
    small = SimConfig(events=600, seed=3, stores=3, skus=20, customers=30, fraud=0.0)
    labels: list[FraudCase] = []
    plain = [e.type for _, _, e in simulate(small, labels)]
    assert labels == []
    with_fraud = [e.type for _, _, e in simulate(SimConfig(**{**small.__dict__, "fraud": 0.01}))]
    assert plain != with_fraud and len(plain) == len(with_fraud)


def test_labels_round_trip_through_jsonl_and_the_report(labelled, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "labels.jsonl"
    write_labels(labelled[1], path)
    assert read_labels(path) == labelled[1]
    report = run(CONFIG, publish=False)  # hashes with the settings' key, the descriptions are the same
    assert [case["description"] for case in report.fraud_cases] == [case.description for case in labelled[1]]


def test_devices_serve_at_most_two_accounts_except_the_labelled_account_farms(labelled) -> None:  # type: ignore[no-untyped-def]
    """Households share a tablet (two accounts, under the rule's three); only a farm's device
    serves three or more, and each such device is a labelled linked_accounts case."""
    day, labels = labelled
    accounts: dict[str, set[str]] = {}
    for _, _, event in day:
        if isinstance(event, CustomerDeviceSeen):
            accounts.setdefault(event.device_id, set()).add(event.known_as.value)
    assert accounts and max(len(a) for d, a in accounts.items() if not d.startswith("farm-")) == 2
    farms = {hashed_device(d, b"k") for d, a in accounts.items() if len(a) >= 3}
    labelled_devices = {case.match[0] for case in labels if case.rule == "linked_accounts"}
    assert farms and farms <= labelled_devices
