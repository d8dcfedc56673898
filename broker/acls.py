"""Who may do what on the secured broker: one principal per service, its grants derived from the topic registry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from streams.topics import (
    ALL_TOPICS,
    CUSTOMER_IDENTIFIERS,
    INGEST_TOPICS,
    INVENTORY_ADJUSTMENTS,
    INVENTORY_HOLD_REQUESTS,
    INVENTORY_TRANSFERS,
    ORDERS_STATUS,
    POS_TRANSACTIONS,
    PRICING_BOOK,
    PRICING_CHANGES,
    WEB_ORDERS,
    TopicSpec,
)

# The services, each a SCRAM user of its own. The broker's own `admin` user is a super user and has no ACLs.
WORKER, SINK, TILL, WEB, OPERATOR = "worker", "sink", "till", "web", "operator"
PRINCIPALS: tuple[str, ...] = (WORKER, SINK, TILL, WEB, OPERATOR)

# Written only by systems outside the worker (tills, back office, head-office pricing): the worker reads them.
OUTSIDE_ONLY: tuple[TopicSpec, ...] = (
    POS_TRANSACTIONS, INVENTORY_ADJUSTMENTS, INVENTORY_TRANSFERS, CUSTOMER_IDENTIFIERS, PRICING_CHANGES,
)
# The web shop and app backend: orders, checkout holds and account identifiers; it reads order status and prices.
WEB_WRITES: tuple[TopicSpec, ...] = (WEB_ORDERS, INVENTORY_HOLD_REQUESTS, CUSTOMER_IDENTIFIERS)
WEB_READS: tuple[TopicSpec, ...] = (ORDERS_STATUS, PRICING_BOOK)
# Tills and the simulator (which plays every outside system) publish the ingest topics and read the price book.
TILL_WRITES: tuple[TopicSpec, ...] = INGEST_TOPICS
TILL_READS: tuple[TopicSpec, ...] = (PRICING_BOOK,)

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
        Rule(TILL, TOPIC, "the ingest topics (INGEST_TOPICS)", wire(TILL_WRITES), ("WRITE",)),
        Rule(TILL, TOPIC, "the price book", wire(TILL_READS), ("READ",)),
        Rule(WEB, TOPIC, "every registry and dead-letter topic", registry + dead_letters, metadata),
        Rule(WEB, TOPIC, "orders, checkout holds, identifiers", wire(WEB_WRITES), ("WRITE",)),
        Rule(WEB, TOPIC, "order status, the price book", wire(WEB_READS), ("READ",)),
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
