"""The secured broker's ACL map: each service gets what it needs of the registry, and nothing of the rest."""

from __future__ import annotations

import re

import pytest
from kafka.admin import ACLPermissionType

from analytics.sink import FACT_SOURCES
from broker import secure
from broker.acls import (
    BACKOFFICE,
    CLUSTER,
    GROUP,
    LITERAL,
    OPERATOR,
    OUTSIDE_ONLY,
    PREFIXED,
    PRINCIPALS,
    SIMULATOR,
    SINK,
    TILL,
    TOPIC,
    TRANSACTIONAL_ID,
    WEB,
    WORKER,
    Grant,
    allowed,
    grants,
    markdown_table,
    owned,
    rules,
    stale,
)
from broker.config import REPO_ROOT
from sim.config import SimConfig
from sim.publish import generate
from streams.topics import (
    ALL_TOPICS,
    CUSTOMER_ERASURE_REQUESTS,
    CUSTOMER_IDENTIFIERS,
    DEAD_LETTER_NOTICES,
    FULFILMENT_NETWORK,
    INVENTORY_ADJUSTMENTS,
    INVENTORY_AVAILABILITY,
    INVENTORY_MOVEMENTS,
    INVENTORY_TRANSFER_SUGGESTIONS,
    INVENTORY_TRANSFERS,
    LOYALTY_COMMANDS,
    LOYALTY_LEDGER,
    POS_TRANSACTIONS,
    PRICING_BOOK,
    PRICING_CHANGES,
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


def writable(principal: str) -> set[str]:
    return {spec.name for spec in ALL_TOPICS if may(principal, "WRITE", spec.full_name(PREFIX))}


def readable(principal: str) -> set[str]:
    return {spec.name for spec in ALL_TOPICS if may(principal, "READ", spec.full_name(PREFIX))}


def test_the_till_writes_only_its_sales_and_reads_only_the_price_book() -> None:
    assert writable(TILL) == {POS_TRANSACTIONS.name}
    assert readable(TILL) == {PRICING_BOOK.name}


def test_the_till_may_write_no_stock_price_identifier_order_or_erasure_topic() -> None:
    for spec in (INVENTORY_ADJUSTMENTS, INVENTORY_TRANSFERS, PRICING_CHANGES, CUSTOMER_IDENTIFIERS,
                 CUSTOMER_ERASURE_REQUESTS, WEB_ORDERS, INVENTORY_MOVEMENTS, LOYALTY_COMMANDS, LOYALTY_LEDGER):
        assert not may(TILL, "WRITE", spec.full_name(PREFIX)), spec.name
    for spec in (INVENTORY_MOVEMENTS, INVENTORY_AVAILABILITY, LOYALTY_COMMANDS, LOYALTY_LEDGER):
        assert not may(TILL, "READ", spec.full_name(PREFIX)), spec.name
    assert not may(TILL, "READ", f"{APP}-wallets-changelog")


def test_the_simulator_writes_every_topic_a_simulated_day_publishes_and_reads_nothing() -> None:
    day = generate(SimConfig(events=2_000, seed=5, stores=3, warehouses=1, skus=20, customers=50, fraud=0.05))
    published = {spec.name for spec, _, _ in day}
    assert writable(SIMULATOR) == published
    assert readable(SIMULATOR) == set()


def test_only_the_back_office_may_request_an_erasure() -> None:
    erasures = CUSTOMER_ERASURE_REQUESTS.full_name(PREFIX)
    assert [p for p in PRINCIPALS if may(p, "WRITE", erasures)] == [BACKOFFICE]
    assert [p for p in PRINCIPALS if may(p, "READ", erasures)] == [WORKER, OPERATOR]


def test_identifiers_are_linked_by_the_channels_and_the_simulator_never_by_the_worker_or_the_back_office() -> None:
    identifiers = CUSTOMER_IDENTIFIERS.full_name(PREFIX)
    assert [p for p in PRINCIPALS if may(p, "WRITE", identifiers)] == [SIMULATOR, WEB]


def test_the_back_office_writes_head_office_topics_and_reads_only_the_network() -> None:
    assert writable(BACKOFFICE) == {PRICING_CHANGES.name, FULFILMENT_NETWORK.name,
                                    INVENTORY_TRANSFER_SUGGESTIONS.name, CUSTOMER_ERASURE_REQUESTS.name}
    assert readable(BACKOFFICE) == {FULFILMENT_NETWORK.name}
    assert not may(BACKOFFICE, "WRITE", POS_TRANSACTIONS.full_name(PREFIX))


def test_the_worker_may_not_rewrite_the_fulfilment_network_but_still_suggests_transfers() -> None:
    assert not may(WORKER, "WRITE", FULFILMENT_NETWORK.full_name(PREFIX))
    assert may(WORKER, "READ", FULFILMENT_NETWORK.full_name(PREFIX))
    assert may(WORKER, "WRITE", INVENTORY_TRANSFER_SUGGESTIONS.full_name(PREFIX))


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


def test_a_grant_the_map_no_longer_gives_is_stale_and_the_current_map_has_none() -> None:
    narrowed = Grant(TILL, TOPIC, LITERAL, INVENTORY_ADJUSTMENTS.full_name(PREFIX), "WRITE")
    assert stale([*RULES, narrowed], PREFIX, APP) == [narrowed]
    assert stale(RULES, PREFIX, APP) == []


def test_a_grant_from_another_host_is_stale_even_when_the_map_gives_it_from_any_host() -> None:
    pos = Grant(TILL, TOPIC, LITERAL, POS_TRANSACTIONS.full_name(PREFIX), "WRITE")
    assert pos in RULES
    by_hand = Grant(TILL, TOPIC, LITERAL, pos.name, "WRITE", host="10.0.0.7")
    assert stale([*RULES, by_hand], PREFIX, APP) == [by_hand]


def test_grants_of_other_prefixes_app_ids_and_principals_are_not_the_maps_to_remove() -> None:
    others = [
        Grant(TILL, TOPIC, LITERAL, "t2." + INVENTORY_ADJUSTMENTS.name, "WRITE"),  # another run's prefix
        Grant(WORKER, GROUP, LITERAL, "other-app", "READ"),
        Grant(WORKER, TRANSACTIONAL_ID, PREFIXED, "other-app", "WRITE"),
        Grant("alice", TOPIC, LITERAL, POS_TRANSACTIONS.full_name(PREFIX), "WRITE"),  # a person's, by hand
    ]
    assert stale([*RULES, *others], PREFIX, APP) == []
    assert not any(owned(g, PREFIX, APP) for g in others)


def test_a_stale_grant_on_the_app_ids_groups_or_the_cluster_is_the_maps_to_remove() -> None:
    extra = [Grant(SINK, GROUP, LITERAL, f"{APP}-router", "READ"), Grant(TILL, CLUSTER, LITERAL, "kafka-cluster",
                                                                          "DESCRIBE")]
    assert stale([*RULES, *extra], PREFIX, APP) == sorted(extra)


def test_without_a_prefix_the_map_owns_every_topic_of_the_service_principals() -> None:
    plain = grants("", "omnistream")
    old_till = Grant(TILL, TOPIC, LITERAL, "pricing.changes", "WRITE")
    assert stale([*plain, old_till], "", "omnistream") == [old_till]


def test_an_acl_on_the_broker_converts_back_to_its_grant_and_a_deny_to_none() -> None:
    for g in RULES:
        assert secure.to_grant(secure.to_acl(g)) == g
    deny = secure.to_acl(Grant(TILL, TOPIC, LITERAL, "x", "WRITE"))
    deny.permission_type = ACLPermissionType.DENY
    assert secure.to_grant(deny) is None
