"""The one registry of topics: name, partitions, key, retention and the events each carries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from streams.audit import HttpRequestAudited
from streams.base import Event
from streams.customers import (
    AttributePurchase,
    CancelPurchase,
    ClaimIdentifier,
    CustomerDeviceSeen,
    CustomerIdentifierLinked,
    CustomersMerged,
    FulfilPurchase,
    IdentifyPurchase,
    LinkIdentifiers,
    PurchaseRecorded,
    ReturnPurchase,
    identity_key,
)
from streams.deadletter import DeadLetterNoticed
from streams.erasure import (
    CustomerErased,
    CustomerErasureRequested,
    EnrolIdentifier,
    EraseCustomer,
    FoldCustomer,
    ForgetIdentifier,
)
from streams.fraud import (
    FraudAlert,
    FraudTick,
    LinkSeen,
    PurchaseSeen,
    RedemptionSeen,
    ReturnSeen,
    TillActivity,
    TillVariance,
    entity_key,
)
from streams.fulfilment import (
    CostsDefined,
    FulfilmentDecided,
    NodeDefined,
    ProfileDefined,
    StoreResponded,
    TransferSuggested,
    network_key,
)
from streams.holds import CommitHold, ExpireHolds, HoldAnswered, PlaceHold, PlaceHolds, ReleaseHold
from streams.inventory import AvailabilityChanged, NetworkAvailabilityChanged, StockChanged, StockMovement
from streams.loyalty import (
    AdvanceWallet,
    CapturePoints,
    ClawbackPoints,
    EarnPoints,
    HoldPoints,
    MergeWallets,
    PointsAnswered,
    PointsPosted,
    TierChanged,
    VoidPoints,
    WalletMovedIn,
)
from streams.orders import OrderCancelled, OrderPickedUp, OrderPlaced, OrderShipped, OrderStatusChanged
from streams.pos import PosReturn, PosSale, PosVoid
from streams.pricing import (
    PriceChanged,
    ProductDescribed,
    PromotionChanged,
    PromotionDefined,
    PromotionGroupDefined,
    book_key,
)
from streams.redemptions import (
    BasketPriced,
    PricingVariance,
    PromotionUsed,
    RedeemPromotions,
    ReturnRedemption,
)
from streams.stock import StockCounted, StockDamaged, StockReceived, TransferReceived, TransferShipped

# The stock table's changelog and every topic that writes it share this count: changing it
# re-homes every SKU and discards the table's partitioning. Treat a change as a migration.
STOCK_PARTITIONS = 4
# Ingest topics are re-keyed before any table sees them, so their count may differ.
INGEST_PARTITIONS = 4

WEEK_MS = 7 * 24 * 3600 * 1000
INGEST_RETENTION_MS = 30 * 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """A topic's contract. `name` is the logical name; `full_name(prefix)` is on the wire."""

    name: str
    events: tuple[type[Event], ...]
    key: str  # what the key is and why, for people (docs/events.md)
    key_of: Callable[[Any], str]  # the key of an event, for code: the one place it is built
    writer: str
    partitions: int
    description: str
    compacted: bool = False
    retention_ms: int | None = INGEST_RETENTION_MS

    def key_for(self, event: Event) -> bytes:
        """The record key `event` is published under on this topic."""
        return self.key_of(event).encode()

    def full_name(self, prefix: str = "") -> str:
        return f"{prefix}{self.name}"

    @property
    def dlq_name(self) -> str:
        return f"{self.name}.dlq"

    @cached_property
    def adapter(self) -> TypeAdapter[Any]:
        """Validates a payload into the one event type its `type` field names."""
        if len(self.events) == 1:
            return TypeAdapter(self.events[0])
        # The member types are only known at run time, hence the dynamic Union.
        members: Any = Union[self.events]  # type: ignore[name-defined]  # noqa: UP007
        union: Any = Annotated[members, Field(discriminator="type")]
        return TypeAdapter(union)

    def config(self) -> dict[str, str]:
        """Broker-side topic configuration."""
        if self.compacted:
            return {"cleanup.policy": "compact"}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms or -1)}


def _price_or_promotion(event: PriceChanged | ProductDescribed | PromotionChanged | PromotionDefined
                        | PromotionGroupDefined) -> str:
    if isinstance(event, PriceChanged | ProductDescribed):
        return event.sku
    return event.group_id if isinstance(event, PromotionGroupDefined) else event.promotion_id


def _erasure_request_key(event: CustomerErasureRequested) -> str:
    return event.identifier.value if event.identifier is not None else str(event.customer_id)


def _hold_request(event: PlaceHold | CommitHold | ReleaseHold) -> str:
    return event.order_id if isinstance(event, PlaceHold) else event.hold_id


def _position_or_network(event: AvailabilityChanged | NetworkAvailabilityChanged) -> str:
    return f"{event.sku}@{event.node}" if isinstance(event, AvailabilityChanged) else event.sku



POS_TRANSACTIONS = TopicSpec(
    name="pos.transactions",
    events=(PosSale, PosReturn, PosVoid),
    key="source_node (the store): keeps one store's till events in order",
    key_of=lambda e: e.source_node,
    writer="store tills (POS)",
    partitions=INGEST_PARTITIONS,
    description="Till sales, returns and post-voids from every store.",
)
WEB_ORDERS = TopicSpec(
    name="web.orders",
    events=(OrderPlaced, OrderCancelled, OrderShipped, OrderPickedUp),
    key="order_id: keeps an order's placement, cancellation, shipment and pick-up in order",
    key_of=lambda e: e.order_id,
    writer="web shop and app backend (placed, cancelled), warehouse management (shipped), store pick-up desks",
    partitions=INGEST_PARTITIONS,
    description="Online orders placed, cancelled, shipped and picked up, any delivery mode.",
)
INVENTORY_ADJUSTMENTS = TopicSpec(
    name="inventory.adjustments",
    events=(StockReceived, StockCounted, StockDamaged),
    key="source_node (the store or warehouse)",
    key_of=lambda e: e.source_node,
    writer="warehouse and store back-office systems",
    partitions=INGEST_PARTITIONS,
    description="Supplier receipts, cycle counts and damage reports.",
)
INVENTORY_TRANSFERS = TopicSpec(
    name="inventory.transfers",
    events=(TransferShipped, TransferReceived),
    key="transfer_id: keeps shipment before receipt",
    key_of=lambda e: e.transfer_id,
    writer="warehouse and store back-office systems",
    partitions=INGEST_PARTITIONS,
    description="Transfers between nodes: shipped at the source, received at the destination.",
)
CUSTOMER_IDENTIFIERS = TopicSpec(
    name="customers.identifiers",
    events=(CustomerIdentifierLinked, CustomerDeviceSeen),
    key="the known identifier's value",
    key_of=lambda e: e.known_as.value,
    writer="tills, web shop and app (enrolment, account changes)",
    partitions=INGEST_PARTITIONS,
    description="A customer identifier linked to another, or an account seen on a device; raw values, hashed by "
                "the router.",
)
# Apart from the channels' identifiers: whoever may link an identifier must not be able to erase a customer.
CUSTOMER_ERASURE_REQUESTS = TopicSpec(
    name="customers.erasure-requests",
    events=(CustomerErasureRequested,),
    key="the identifier's value, or the customer id, the request names the customer by",
    key_of=_erasure_request_key,
    writer="the back office (customer service)",
    partitions=INGEST_PARTITIONS,
    description="Customers' requests to be forgotten, named by customer id or by one raw identifier (hashed by "
                "the router).",
)
PRICING_CHANGES = TopicSpec(
    name="pricing.changes",
    events=(PriceChanged, ProductDescribed, PromotionChanged, PromotionDefined, PromotionGroupDefined),
    key="sku for prices and products, promotion_id for promotions, group_id for groups",
    key_of=_price_or_promotion,
    writer="head-office pricing",
    partitions=INGEST_PARTITIONS,
    description="Central prices, products, promotions and promotion groups; the router books them on "
                "pricing.book-entries.",
)
INVENTORY_HOLD_REQUESTS = TopicSpec(
    name="inventory.hold-requests",
    events=(PlaceHold, CommitHold, ReleaseHold),
    key="order_id of the hold (place) or hold_id (commit, release)",
    key_of=_hold_request,
    writer="web shop checkout, app, tills, fulfilment (or POST /holds/ on a worker)",
    partitions=INGEST_PARTITIONS,
    description="Requests to place, commit or release a hold on units of one SKU at one node.",
)
INVENTORY_MOVEMENTS = TopicSpec(
    name="inventory.movements",
    events=(StockMovement, PlaceHold, PlaceHolds, CommitHold, ReleaseHold, ExpireHolds),
    key="sku: co-partitioned with the stock table",
    key_of=lambda e: e.sku,
    writer="agent route_movements, the order saga (its holds) and the hold expiry timer",
    partitions=STOCK_PARTITIONS,
    description="A SKU's log: every stock movement and hold command for it, in one order (internal).",
    retention_ms=WEEK_MS,
)
INVENTORY_AVAILABILITY = TopicSpec(
    name="inventory.availabilities",
    events=(AvailabilityChanged, NetworkAvailabilityChanged),
    key="sku@node for a position, sku for the network-wide figure",
    key_of=_position_or_network,
    writer="stage apply_movements",
    partitions=STOCK_PARTITIONS,
    description="Latest available-to-promise per position and per SKU across the network (compacted).",
    compacted=True,
    retention_ms=None,
)
INVENTORY_HOLD_ANSWERS = TopicSpec(
    name="inventory.hold-answers",
    events=(HoldAnswered,),
    key="order_id: co-partitioned with web.orders for the order saga",
    key_of=lambda e: e.order_id or "-",
    writer="stage apply_movements",
    partitions=INGEST_PARTITIONS,
    description="Every hold command's answer: granted, rejected, committed, released, expired or unknown.",
)
ORDERS_STATUS = TopicSpec(
    name="orders.status",
    events=(OrderStatusChanged,),
    key="order_id",
    key_of=lambda e: e.order_id,
    writer="agent order_saga",
    partitions=INGEST_PARTITIONS,
    description="Each order's one clear answer (accepted or rejected) and every later status change.",
)
IDENTITY_REQUESTS = TopicSpec(
    name="identity.requests",
    events=(IdentifyPurchase, LinkIdentifiers, ClaimIdentifier, AttributePurchase, FulfilPurchase, CancelPurchase,
            ReturnPurchase, EnrolIdentifier, FoldCustomer, EraseCustomer, ForgetIdentifier),
    key="hashed identifier (idh-...), purchase key (`<store>/<receipt>`, `order/<id>`) or customer id "
        "(cus-...): co-partitioned with the identities, purchases and customers tables",
    key_of=identity_key,
    writer="agent route_movements (hashing raw identifiers) and agent resolve_identities (claims, attributions)",
    partitions=INGEST_PARTITIONS,
    description="Identity resolution's log: purchases to attribute, complete, cancel or return, links to apply, "
                "customers' identifiers to index and erase.",
    retention_ms=WEEK_MS,
)
CUSTOMERS_MERGES = TopicSpec(
    name="customers.merges",
    events=(CustomersMerged,),
    key="the merged customer id",
    key_of=lambda e: e.merged,
    writer="agent resolve_identities",
    partitions=INGEST_PARTITIONS,
    description="Two customers found to be one, and which survives (the one seen first).",
)
CUSTOMERS_ERASURES = TopicSpec(
    name="customers.erasures",
    events=(CustomerErased,),
    key="the erased customer id",
    key_of=lambda e: e.customer_id,
    writer="agent resolve_identities",
    partitions=INGEST_PARTITIONS,
    description="Customers whose identifiers were forgotten on request: who and when, never an identifier.",
    retention_ms=365 * 24 * 3600 * 1000,
)
LOYALTY_COMMANDS = TopicSpec(
    name="loyalty.commands",
    events=(EarnPoints, ClawbackPoints, HoldPoints, CapturePoints, VoidPoints, MergeWallets, WalletMovedIn,
            AdvanceWallet),
    key="customer_id: co-partitioned with the wallets table (murmur2, Kafka's default partitioner)",
    key_of=lambda e: e.customer_id,
    writer="tills and checkouts (hold, capture, void: the request/reply path), identity resolution (earn, "
           "clawback, merge), the wallets themselves (merges, moves, forwards of a merged-away wallet), the "
           "wallet timer (advance: what time alone changes)",
    partitions=INGEST_PARTITIONS,
    description="A wallet's log: every command that changes a customer's points, in one order.",
)
LOYALTY_ANSWERS = TopicSpec(
    name="loyalty.answers",
    events=(PointsAnswered,),
    key="customer_id",
    key_of=lambda e: e.customer_id,
    writer="stage apply_wallet_commands",
    partitions=INGEST_PARTITIONS,
    description="The wallet's answer to each hold, capture and void (match `request_id` / `command_id`).",
)
LOYALTY_LEDGER = TopicSpec(
    name="loyalty.ledger-entries",
    events=(PointsPosted,),
    key="customer_id",
    key_of=lambda e: e.customer_id,
    writer="stage apply_wallet_commands",
    partitions=INGEST_PARTITIONS,
    description="Double-entry postings per command, with the wallet's balances after them.",
)
LOYALTY_TIERS = TopicSpec(
    name="loyalty.tier-changes",
    events=(TierChanged,),
    key="customer_id",
    key_of=lambda e: e.customer_id,
    writer="stage apply_wallet_commands",
    partitions=INGEST_PARTITIONS,
    description="A customer's tier changed, with the qualifying spend and window that explain it.",
)
CUSTOMERS_PURCHASES = TopicSpec(
    name="customers.purchases",
    events=(PurchaseRecorded,),
    key="customer_id (as attributed; follow customers.merges to the survivor)",
    key_of=lambda e: str(e.customer_id),
    writer="agent resolve_identities",
    partitions=INGEST_PARTITIONS,
    description="Every customer's purchases and returns from every channel: the unified purchase history.",
)
INVENTORY_LEDGER = TopicSpec(
    name="inventory.ledger-entries",
    events=(StockChanged,),
    key="sku",
    key_of=lambda e: e.sku,
    writer="stage apply_movements",
    partitions=STOCK_PARTITIONS,
    description="What each movement did to a position, with the position after it.",
)
FRAUD_FACTS = TopicSpec(
    name="fraud.facts",
    events=(TillActivity, PurchaseSeen, ReturnSeen, TillVariance, RedemptionSeen, LinkSeen, FraudTick),
    key="the entity a rule groups by: store:<store>, receipt:<purchase key>, variance:<store>, card:<idh>, "
        "identifier:<idh>",
    key_of=entity_key,
    writer="task route_movements (the router); stage settle_promotions (fraud.till_variance only)",
    partitions=INGEST_PARTITIONS,
    description="Ingest events and pricing variances re-keyed by the entity each fraud rule judges: "
                "one worker sees an entity in order.",
)
FRAUD_ALERTS = TopicSpec(
    name="fraud.alerts",
    events=(FraudAlert,),
    key="<entity kind>:<entity id>",
    key_of=lambda e: f"{e.entity_kind}:{e.entity_id}",
    writer="agent watch_fraud",
    partitions=INGEST_PARTITIONS,
    description="Fraud alerts for loss prevention: rule, severity, entity, evidence, window; dedupe on alert_id.",
    retention_ms=365 * 24 * 3600 * 1000,
)
DEAD_LETTER_NOTICES = TopicSpec(
    name="ops.dead-letter-notices",
    events=(DeadLetterNoticed,),
    key="<source topic>",
    key_of=lambda e: e.source_topic,
    writer="every stage that dead-letters (runtime/dead_letters.py, the router)",
    partitions=1,
    description="One notice per dead-lettered record: where from, why, size, SHA-256 and a preview with personal "
                "data masked; the raw bytes stay on the operator-only `.dlq` topics.",
)
AUDIT_REQUESTS = TopicSpec(
    name="audit.http-requests",
    events=(HttpRequestAudited,),
    key="<client>",
    key_of=lambda e: e.client or "-",
    writer="views/access (the worker's HTTP middleware)",
    partitions=INGEST_PARTITIONS,
    description="Every HTTP request that changes state, and every refused one: client, scopes, route, status, when.",
    retention_ms=365 * 24 * 3600 * 1000,
)
FULFILMENT_NETWORK = TopicSpec(
    name="fulfilment.network-versions",
    events=(NodeDefined, CostsDefined, ProfileDefined),
    key="<kind>/<id>@<version> (node/store-0042@3, costs/default@2, profile/network@4): compaction keeps "
        "every version, so a replay uses the tables as they stood",
    key_of=network_key,
    writer="head office (network planning): `python -m ops.network publish`",
    partitions=1,
    description="The fulfilment network as versioned data: nodes, cost tables, sourcing profiles (compacted).",
    compacted=True,
    retention_ms=None,
)
FULFILMENT_DECISIONS = TopicSpec(
    name="fulfilment.decisions",
    events=(FulfilmentDecided,),
    key="order_id",
    key_of=lambda e: e.order_id,
    writer="stage order_saga",
    partitions=INGEST_PARTITIONS,
    description="Every sourcing decision with its explanation: eliminations, scored candidates, the plan, retries.",
)
FULFILMENT_STORE_RESPONSES = TopicSpec(
    name="fulfilment.store-responses",
    events=(StoreResponded,),
    key="order_id: co-partitioned with web.orders for the order saga",
    key_of=lambda e: e.order_id,
    writer="store and warehouse picking systems",
    partitions=INGEST_PARTITIONS,
    description="A node rejects an assignment or reports a short pick: the saga re-sources the remainder.",
)
INVENTORY_TRANSFER_SUGGESTIONS = TopicSpec(
    name="inventory.transfer-suggestions",
    events=(TransferSuggested,),
    key="sku",
    key_of=lambda e: e.sku,
    writer="store balancing (`python -m analytics.balancing`)",
    partitions=INGEST_PARTITIONS,
    description="Proposed store-to-store transfers, with the days of cover and sales rates behind them.",
)
PRICING_BOOK = TopicSpec(
    name="pricing.book-entries",
    events=(PriceChanged, ProductDescribed, PromotionDefined, PromotionGroupDefined),
    key="price/<list>/<sku>@<effective_from>, product/<sku>, promotion/<id>@<version>, group/<id>@<version>: "
        "compaction keeps every dated price and every version",
    key_of=book_key,
    writer="the router (from pricing.changes)",
    partitions=1,
    description="The price book as a compacted snapshot: every worker and till reads it whole; "
                "its snapshot_version is the offset after the last record read.",
    compacted=True,
    retention_ms=None,
)
PRICING_REDEMPTIONS = TopicSpec(
    name="pricing.redemptions",
    events=(RedeemPromotions, ReturnRedemption),
    key="purchase_key (receipt id or order id): a purchase, its returns and cancellations meet in order",
    key_of=lambda e: e.purchase_key,
    writer="the router (from pos.transactions and web.orders)",
    partitions=INGEST_PARTITIONS,
    description="Sales and orders to redeem and re-price, and the returns and cancellations that give budget back.",
)
PRICING_USES = TopicSpec(
    name="pricing.promotion-uses",
    events=(PromotionUsed,),
    key="promotion_id",
    key_of=lambda e: e.promotion_id,
    writer="stage settle_promotions",
    partitions=INGEST_PARTITIONS,
    description="Each promotion use booked or given back, once: promotion cost, redemptions, budget burn.",
)
PRICING_VARIANCES = TopicSpec(
    name="pricing.variances",
    events=(PricingVariance,),
    key="sku",
    key_of=lambda e: e.sku,
    writer="stage settle_promotions",
    partitions=INGEST_PARTITIONS,
    description="Till lines charged other than the centre's re-price, with the snapshot versions and the cause.",
)
PRICING_BASKETS = TopicSpec(
    name="pricing.baskets",
    events=(BasketPriced,),
    key="basket_id",
    key_of=lambda e: e.basket_id,
    writer="POST /baskets/price/ on a worker",
    partitions=INGEST_PARTITIONS,
    description="Baskets priced at checkout: totals, promotions applied and rejected, budget holds and answers.",
)

# Topics that outside systems publish to: each gets a dead-letter topic.
INGEST_TOPICS: tuple[TopicSpec, ...] = (
    POS_TRANSACTIONS,
    WEB_ORDERS,
    INVENTORY_ADJUSTMENTS,
    INVENTORY_TRANSFERS,
    CUSTOMER_IDENTIFIERS,
    CUSTOMER_ERASURE_REQUESTS,
    PRICING_CHANGES,
    INVENTORY_HOLD_REQUESTS,
)
# Written by outside systems too, but read by one agent (not the router), which dead-letters.
LOYALTY_TOPICS: tuple[TopicSpec, ...] = (
    IDENTITY_REQUESTS, CUSTOMERS_MERGES, CUSTOMERS_PURCHASES, CUSTOMERS_ERASURES, LOYALTY_COMMANDS, LOYALTY_ANSWERS,
    LOYALTY_LEDGER, LOYALTY_TIERS,
)
# Fulfilment: the network (every worker reads it whole), decisions, store responses, suggestions.
FULFILMENT_TOPICS: tuple[TopicSpec, ...] = (
    FULFILMENT_NETWORK, FULFILMENT_DECISIONS, FULFILMENT_STORE_RESPONSES, INVENTORY_TRANSFER_SUGGESTIONS,
)
# Pricing: the book (every worker and till reads it whole), redemptions, uses, variances, baskets.
PRICING_TOPICS: tuple[TopicSpec, ...] = (
    PRICING_BOOK, PRICING_REDEMPTIONS, PRICING_USES, PRICING_VARIANCES, PRICING_BASKETS,
)
INTERNAL_TOPICS: tuple[TopicSpec, ...] = (
    INVENTORY_MOVEMENTS,
    INVENTORY_LEDGER,
    INVENTORY_AVAILABILITY,
    INVENTORY_HOLD_ANSWERS,
    ORDERS_STATUS,
    FRAUD_FACTS,
    FRAUD_ALERTS,
    AUDIT_REQUESTS,
    DEAD_LETTER_NOTICES,
)
ALL_TOPICS: tuple[TopicSpec, ...] = (INGEST_TOPICS + INTERNAL_TOPICS + LOYALTY_TOPICS + FULFILMENT_TOPICS
                                     + PRICING_TOPICS)
BY_NAME: dict[str, TopicSpec] = {spec.name: spec for spec in ALL_TOPICS}


def dead_letter_topics() -> list[tuple[str, int, dict[str, str]]]:
    """(name, partitions, config) of every dead-letter topic; kept as long as their sources."""
    return [
        (spec.dlq_name, 1, {"cleanup.policy": "delete", "retention.ms": str(INGEST_RETENTION_MS)})
        for spec in ALL_TOPICS
    ]


def spec_for(wire_name: str, prefix: str = "") -> TopicSpec:
    """The spec of a topic as named on the wire."""
    return BY_NAME[wire_name.removeprefix(prefix)]
