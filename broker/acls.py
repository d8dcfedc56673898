"""Who may do what on the secured broker: one principal per service, its grants derived from the topic registry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from streams.topics import (
    ALL_TOPICS,
    CUSTOMER_ERASURE_REQUESTS,
    CUSTOMER_IDENTIFIERS,
    FULFILMENT_NETWORK,
    INVENTORY_ADJUSTMENTS,
    INVENTORY_HOLD_REQUESTS,
    INVENTORY_TRANSFER_SUGGESTIONS,
    INVENTORY_TRANSFERS,
    ORDERS_STATUS,
    POS_TRANSACTIONS,
    PRICING_BOOK,
    PRICING_CHANGES,
    WEB_ORDERS,
    TopicSpec,
)

# The services, each a SCRAM user of its own. The broker's own `admin` user is a super user and has no ACLs.
WORKER, SINK, TILL, SIMULATOR, WEB, BACKOFFICE, OPERATOR = (
    "worker", "sink", "till", "simulator", "web", "backoffice", "operator")
PRINCIPALS: tuple[str, ...] = (WORKER, SINK, TILL, SIMULATOR, WEB, BACKOFFICE, OPERATOR)

# Written only by systems outside the worker (tills, back office, head office): the worker reads them.
OUTSIDE_ONLY: tuple[TopicSpec, ...] = (
    POS_TRANSACTIONS, INVENTORY_ADJUSTMENTS, INVENTORY_TRANSFERS, CUSTOMER_IDENTIFIERS, CUSTOMER_ERASURE_REQUESTS,
    PRICING_CHANGES, FULFILMENT_NETWORK,
)
# A till sells and takes returns: it writes its sales and reads the price book, nothing of stock, prices or
# customers (its holds and points go through the worker's HTTP API).
TILL_WRITES: tuple[TopicSpec, ...] = (POS_TRANSACTIONS,)
TILL_READS: tuple[TopicSpec, ...] = (PRICING_BOOK,)
# The web shop and app backend: orders, checkout holds and account identifiers; it reads order status and prices.
WEB_WRITES: tuple[TopicSpec, ...] = (WEB_ORDERS, INVENTORY_HOLD_REQUESTS, CUSTOMER_IDENTIFIERS)
WEB_READS: tuple[TopicSpec, ...] = (ORDERS_STATUS, PRICING_BOOK)
# Head office and customer service: prices, the fulfilment network (`python -m ops.network publish`), transfer
# suggestions (`python -m analytics.balancing`, which reads the network) and erasure requests.
BACKOFFICE_WRITES: tuple[TopicSpec, ...] = (
    PRICING_CHANGES, FULFILMENT_NETWORK, INVENTORY_TRANSFER_SUGGESTIONS, CUSTOMER_ERASURE_REQUESTS,
)
BACKOFFICE_READS: tuple[TopicSpec, ...] = (FULFILMENT_NETWORK,)
# `python -m sim` plays the outside systems of a trading day: tills, web shop, back rooms, identifier links and
# head-office pricing (sim/). Never erasure requests, holds or the network.
SIMULATOR_WRITES: tuple[TopicSpec, ...] = (
    POS_TRANSACTIONS, WEB_ORDERS, INVENTORY_ADJUSTMENTS, INVENTORY_TRANSFERS, CUSTOMER_IDENTIFIERS, PRICING_CHANGES,
)

TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID = "topic", "group", "cluster", "transactional_id"
LITERAL, PREFIXED = "literal", "prefixed"
CLUSTER_NAME = "kafka-cluster"


@dataclass(frozen=True, order=True)
class Grant:
    """`principal` may do `operation` on the `resource` named `name` (exactly, or every name starting with it)."""

    principal: str
    resource: str
    pattern: str
    name: str
    operation: str
    host: str = "*"  # the map grants from any host; another host means someone added the ACL by hand


@dataclass(frozen=True)
class Rule:
    """Operations of one principal on a named set of resources: how the map is written and documented."""

    principal: str
    resource: str
    what: str  # the set, for people: "every registry topic", "the sink's sources"
    names: tuple[str, ...]
    operations: tuple[str, ...]
    pattern: str = LITERAL

    def grants(self) -> list[Grant]:
        return [Grant(self.principal, self.resource, self.pattern, n, op) for n in self.names for op in self.operations]


def sink_sources() -> tuple[TopicSpec, ...]:
    """The topics the DuckDB sink projects (analytics.sink.FACT_SOURCES), imported late: it pulls in DuckDB."""
    from analytics.sink import FACT_SOURCES

    return FACT_SOURCES


def rules(prefix: str, app_id: str) -> list[Rule]:
    """The ACL map for topics named `<prefix><name>` and a worker whose Faust app id is `app_id`.

    Faust names its changelog, leader and repartition topics `<app_id>-...` (no topic prefix) and its
    consumer group `<app_id>`; the stages' groups are `<app_id>-<stage>`. Only the worker reads or
    writes those, so only the worker and the operator ever see a table's changelog (wallets included)."""

    def wire(specs: Iterable[TopicSpec]) -> tuple[str, ...]:
        return tuple(spec.full_name(prefix) for spec in specs)

    registry, faust = wire(ALL_TOPICS), (f"{app_id}-",)
    dead_letters = tuple(prefix + spec.dlq_name for spec in ALL_TOPICS)
    metadata = ("DESCRIBE",)
    return [
        Rule(WORKER, TOPIC, "every registry topic", registry, ("READ", "DESCRIBE", "DESCRIBE_CONFIGS", "CREATE")),
        Rule(WORKER, TOPIC, "every registry topic but the outside systems' (OUTSIDE_ONLY)",
             wire(s for s in ALL_TOPICS if s not in OUTSIDE_ONLY), ("WRITE",)),
        Rule(WORKER, TOPIC, "every dead-letter topic", dead_letters, ("WRITE", "DESCRIBE", "CREATE")),
        Rule(WORKER, TOPIC, "Faust's changelogs and internal topics", faust,
             ("READ", "WRITE", "DESCRIBE", "DESCRIBE_CONFIGS", "CREATE"), PREFIXED),
        Rule(WORKER, GROUP, "the Faust app's group", (app_id,), ("READ", "DESCRIBE")),
        Rule(WORKER, GROUP, "the stages' and the router's groups", faust, ("READ", "DESCRIBE"), PREFIXED),
        Rule(WORKER, TRANSACTIONAL_ID, "the worker's transactional producers", (app_id,), ("WRITE", "DESCRIBE"),
             PREFIXED),
        # The others may see the registry's metadata (streams.admin checks the topics exist), not its records.
        Rule(SINK, TOPIC, "every registry and dead-letter topic", registry + dead_letters, metadata),
        Rule(SINK, TOPIC, "the sink's sources (analytics.sink.FACT_SOURCES)", wire(sink_sources()), ("READ",)),
        Rule(TILL, TOPIC, "every registry and dead-letter topic", registry + dead_letters, metadata),
        Rule(TILL, TOPIC, "till sales", wire(TILL_WRITES), ("WRITE",)),
        Rule(TILL, TOPIC, "the price book", wire(TILL_READS), ("READ",)),
        Rule(SIMULATOR, TOPIC, "every registry and dead-letter topic", registry + dead_letters, metadata),
        Rule(SIMULATOR, TOPIC, "the ingest topics a simulated day publishes (SIMULATOR_WRITES)",
             wire(SIMULATOR_WRITES), ("WRITE",)),
        Rule(WEB, TOPIC, "every registry and dead-letter topic", registry + dead_letters, metadata),
        Rule(WEB, TOPIC, "orders, checkout holds, identifiers", wire(WEB_WRITES), ("WRITE",)),
        Rule(WEB, TOPIC, "order status, the price book", wire(WEB_READS), ("READ",)),
        Rule(BACKOFFICE, TOPIC, "every registry and dead-letter topic", registry + dead_letters, metadata),
        Rule(BACKOFFICE, TOPIC, "prices, the network, transfer suggestions, erasure requests (BACKOFFICE_WRITES)",
             wire(BACKOFFICE_WRITES), ("WRITE",)),
        Rule(BACKOFFICE, TOPIC, "the fulfilment network", wire(BACKOFFICE_READS), ("READ",)),
        Rule(OPERATOR, TOPIC, "every topic" + (" under the prefix" if prefix else ""), (prefix or "*",),
             ("READ", "DESCRIBE", "DESCRIBE_CONFIGS"), PREFIXED if prefix else LITERAL),
        Rule(OPERATOR, TOPIC, "Faust's changelogs and internal topics", faust,
             ("READ", "DESCRIBE", "DESCRIBE_CONFIGS"), PREFIXED),
        Rule(OPERATOR, GROUP, "the worker's groups (lag)", (app_id,), ("DESCRIBE",), PREFIXED),
        Rule(OPERATOR, CLUSTER, "the cluster", (CLUSTER_NAME,), ("DESCRIBE", "DESCRIBE_CONFIGS")),
    ]


def grants(prefix: str, app_id: str) -> list[Grant]:
    """Every ACL of every service (see `rules`), one per name and operation, without repeats."""
    return sorted({g for rule in rules(prefix, app_id) for g in rule.grants()})


def owned(grant: Grant, prefix: str, app_id: str) -> bool:
    """Whether the map for `prefix` and `app_id` speaks for this ALLOW grant, so `apply` may remove it: a service
    principal's grant on a topic under the prefix (every topic when the prefix is empty), on the app id's groups,
    transactional ids and Faust topics, or on the cluster. Other prefixes' and app ids' grants are left alone."""
    if grant.principal not in PRINCIPALS:
        return False
    ours = grant.name == app_id or grant.name.startswith(f"{app_id}-")
    if grant.resource == TOPIC:
        return ours or grant.name.startswith(prefix)
    return ours if grant.resource in (GROUP, TRANSACTIONAL_ID) else grant.resource == CLUSTER


def stale(existing: Iterable[Grant], prefix: str, app_id: str) -> list[Grant]:
    """The ALLOW grants on the broker that the map owns (see `owned`) but no longer gives: what `apply` removes."""
    wanted = set(grants(prefix, app_id))
    return sorted({g for g in existing if owned(g, prefix, app_id) and g not in wanted})


def allowed(rules: Iterable[Grant], principal: str, resource: str, name: str, operation: str) -> bool:
    """What the StandardAuthorizer decides for these ALLOW rules (READ, WRITE and the like imply DESCRIBE)."""
    implied = {operation, "ALL"} | ({"READ", "WRITE", "DELETE", "ALTER"} if operation == "DESCRIBE" else set())
    return any(
        g.principal == principal and g.resource == resource and g.operation in implied
        and (g.name == name or g.name == "*" or (g.pattern == PREFIXED and name.startswith(g.name)))
        for g in rules
    )


def markdown_table(ruleset: Iterable[Rule]) -> str:
    """The map as docs/broker.md shows it (prefix "", app id "omnistream"); a unit test keeps the two in step."""
    lines = ["| principal | resource | names | pattern | operations |", "| --- | --- | --- | --- | --- |"]
    for r in ruleset:
        # Sets that grow with the registry are named, not listed: the table changes only when the map does.
        names = r.what + (": " + ", ".join(f"`{n}`" for n in r.names) if len(r.names) <= 3 else "")
        lines.append(f"| {r.principal} | {r.resource} | {names} | {r.pattern} | {', '.join(r.operations)} |")
    return "\n".join(lines) + "\n"
