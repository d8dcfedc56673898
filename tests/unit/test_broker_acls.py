"""The secured broker's ACL map: each service gets what it needs of the registry, and nothing of the rest."""

from __future__ import annotations

import re

import pytest

from analytics.sink import FACT_SOURCES
from broker import secure
from broker.acls import (
    CLUSTER,
    GROUP,
    OPERATOR,
    OUTSIDE_ONLY,
    PRINCIPALS,
    SINK,
    TILL,
    TOPIC,
    WEB,
    WORKER,
    allowed,
    grants,
    markdown_table,
    rules,
)
from broker.config import REPO_ROOT
from streams.topics import (
    ALL_TOPICS,
    DEAD_LETTER_NOTICES,
    INGEST_TOPICS,
    INVENTORY_AVAILABILITY,
    INVENTORY_MOVEMENTS,
    LOYALTY_COMMANDS,
    LOYALTY_LEDGER,
    POS_TRANSACTIONS,
    WEB_ORDERS,
)

PREFIX, APP = "t1.", "omni-test"
RULES = grants(PREFIX, APP)
CHANGELOGS = [f"{APP}-wallets-changelog", f"{APP}-stock-changelog", f"{APP}-__assignor-__leader"]


def may(principal: str, operation: str, topic: str) -> bool:
    return allowed(RULES, principal, TOPIC, topic, operation)


def test_the_worker_reads_every_registry_topic_and_writes_all_but_the_outside_systems_ones() -> None:
    for spec in ALL_TOPICS:
        name = spec.full_name(PREFIX)
        assert may(WORKER, "READ", name) and may(WORKER, "CREATE", name), name
        assert may(WORKER, "WRITE", name) == (spec not in OUTSIDE_ONLY), name


def test_the_worker_writes_every_dead_letter_topic_and_reads_none() -> None:
    for spec in ALL_TOPICS:
        assert may(WORKER, "WRITE", PREFIX + spec.dlq_name)
        assert not may(WORKER, "READ", PREFIX + spec.dlq_name)


def test_only_the_worker_writes_faust_changelogs_and_only_it_and_the_operator_read_them() -> None:
    for topic in CHANGELOGS:
        assert may(WORKER, "WRITE", topic) and may(WORKER, "CREATE", topic)
        assert [p for p in PRINCIPALS if may(p, "WRITE", topic)] == [WORKER]
        assert [p for p in PRINCIPALS if may(p, "READ", topic)] == [WORKER, OPERATOR]
        assert [p for p in PRINCIPALS if may(p, "DESCRIBE", topic)] == [WORKER, OPERATOR]


def test_the_worker_joins_its_own_groups_only() -> None:
    for group in (APP, f"{APP}-router", f"{APP}-apply_movements"):
        assert allowed(RULES, WORKER, GROUP, group, "READ"), group
    assert not allowed(RULES, WORKER, GROUP, "someone-else", "READ")
    assert [p for p in PRINCIPALS if allowed(RULES, p, GROUP, APP, "READ")] == [WORKER]


def test_the_till_writes_the_ingest_topics_and_nothing_of_stock_or_wallets() -> None:
    for spec in INGEST_TOPICS:
        assert may(TILL, "WRITE", spec.full_name(PREFIX)), spec.name
    for spec in (INVENTORY_MOVEMENTS, INVENTORY_AVAILABILITY, LOYALTY_COMMANDS, LOYALTY_LEDGER):
        assert not may(TILL, "WRITE", spec.full_name(PREFIX)), spec.name
        assert not may(TILL, "READ", spec.full_name(PREFIX)), spec.name
    assert not may(TILL, "READ", f"{APP}-wallets-changelog")


def test_the_web_shop_writes_orders_but_not_till_sales() -> None:
    assert may(WEB, "WRITE", WEB_ORDERS.full_name(PREFIX))
    assert not may(WEB, "WRITE", POS_TRANSACTIONS.full_name(PREFIX))
    assert not may(WEB, "READ", POS_TRANSACTIONS.full_name(PREFIX))


def test_the_sink_reads_exactly_its_sources_and_the_dead_letters_and_writes_nothing() -> None:
    readable = {spec.name for spec in ALL_TOPICS if may(SINK, "READ", spec.full_name(PREFIX))}
    assert readable == {spec.name for spec in FACT_SOURCES}
    assert not any(g.principal == SINK and g.operation not in ("READ", "DESCRIBE") for g in RULES)


def test_dead_letters_are_read_only_by_the_operator_and_their_notices_by_the_sink_too() -> None:
    for spec in ALL_TOPICS:
        readers = [p for p in PRINCIPALS if may(p, "READ", PREFIX + spec.dlq_name)]
        assert readers == [OPERATOR], spec.name
    assert may(SINK, "READ", DEAD_LETTER_NOTICES.full_name(PREFIX))


def test_the_operator_reads_every_topic_of_its_prefix_and_writes_none() -> None:
    for name in [s.full_name(PREFIX) for s in ALL_TOPICS] + [PREFIX + s.dlq_name for s in ALL_TOPICS] + CHANGELOGS:
        assert may(OPERATOR, "READ", name), name
        assert not may(OPERATOR, "WRITE", name), name
    assert allowed(RULES, OPERATOR, CLUSTER, "kafka-cluster", "DESCRIBE")


def test_every_topic_grant_honours_the_topic_prefix() -> None:
    for g in RULES:
        if g.resource == TOPIC:
            assert g.name.startswith((PREFIX, f"{APP}-")), g
    assert not may(TILL, "WRITE", POS_TRANSACTIONS.name)  # the unprefixed topic of another run
    assert not may(OPERATOR, "READ", POS_TRANSACTIONS.name)


def test_without_a_prefix_the_operator_reads_every_topic_by_the_wildcard() -> None:
    plain = grants("", "omnistream")
    assert allowed(plain, OPERATOR, TOPIC, "pos.transactions.dlq", "READ")
    assert not allowed(plain, TILL, TOPIC, "pos.transactions.dlq", "READ")


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_every_principal_has_grants_and_no_one_may_alter_or_delete(principal: str) -> None:
    ours = [g for g in RULES if g.principal == principal]
    assert ours
    assert not {g.operation for g in ours} & {"ALL", "ALTER", "ALTER_CONFIGS", "DELETE", "CLUSTER_ACTION"}


def test_every_grant_converts_to_a_kafka_acl() -> None:
    acls = [secure.to_acl(g) for g in RULES]
    assert len({secure._key(a) for a in acls}) == len(RULES)


def test_the_acl_table_in_docs_broker_md_is_the_one_the_map_gives() -> None:
    doc = (REPO_ROOT / "docs" / "broker.md").read_text()
    table = markdown_table(rules("", "omnistream"))
    assert table in doc, "regenerate it: python -m broker acls --print"
    assert re.search(r"\| principal \| resource \| names \|", doc)
