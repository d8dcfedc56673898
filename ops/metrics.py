"""Prometheus metrics of a worker: what it processed, dead-lettered, and how far behind it is."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ops.cluster_watch import kafka_gauges

REGISTRY = CollectorRegistry()
KAFKA = kafka_gauges(REGISTRY)  # omnistream_kafka_*: the cluster as this worker sees it (ops/cluster_watch.py)

EVENTS = Counter(
    "omnistream_events_processed_total", "Records consumed and handled, by topic", ["topic"], registry=REGISTRY
)
DEAD_LETTERS = Counter(
    "omnistream_dead_letters_total", "Records sent to a dead-letter topic, by source topic", ["topic"],
    registry=REGISTRY,
)
AUDITS_DROPPED = Counter(
    "omnistream_http_audits_dropped_total",
    "HTTP audit records not published because 10,000 were already waiting for the producer (a flood)",
    registry=REGISTRY,
)
MOVEMENTS = Counter(
    "omnistream_stock_movements_total",
    "Stock movements by verdict: applied, redelivered (after a crash) or duplicate (same id again)",
    ["verdict"],
    registry=REGISTRY,
)
NEGATIVE_ON_HAND = Counter(
    "omnistream_stock_negative_on_hand_total", "Movements that left a position below zero", registry=REGISTRY
)
CONSUMER_LAG = Gauge(
    "omnistream_consumer_lag", "High watermark minus the next offset to read, per assigned partition",
    ["topic", "partition"], registry=REGISTRY,
)
TABLE_KEYS = Gauge(
    "omnistream_table_keys", "Keys held locally per table (assigned partitions)", ["table"], registry=REGISTRY
)
CHECKPOINT_SECONDS = Histogram(
    "omnistream_stage_checkpoint_seconds",
    "How long a stage's checkpoint held its loop, by part: writes (table values), send (their changelog "
    "records to the producer), flush (until Kafka acknowledged them and the outputs), commit (the offsets)",
    ["stage", "part"], buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0), registry=REGISTRY,
)
OFFSET_HOLES = Counter(
    "omnistream_offset_holes_total",
    "Offsets jumped over inside a partition (expected only right after a restart)",
    ["stage", "topic"], registry=REGISTRY,
)
UNFLUSHED_DROPPED = Counter(
    "omnistream_stock_unflushed_dropped_total",
    "Ledger entries too old to re-emit after a crash (commits lagging far behind): 0 in health",
    registry=REGISTRY,
)
HOLD_ANSWERS = Counter(
    "omnistream_hold_answers_total", "Hold answers by kind (granted, rejected, committed, ...)", ["answer"],
    registry=REGISTRY,
)
STOCK_CONFLICTS = Counter(
    "omnistream_stock_conflicts_total",
    "Till sales that left a node with less than its holds promised (newest holds released)",
    registry=REGISTRY,
)
ORDER_STATUSES = Counter(
    "omnistream_order_status_total",
    "Order status changes decided by the order saga (accepted, rejected, shipped, no_show, ...)",
    ["status"],
    registry=REGISTRY,
)
SOURCING_DECISIONS = Counter(
    "omnistream_sourcing_decisions_total",
    "Sourcing decisions for orders placed without a node, by outcome (planned, rejected, waiting)",
    ["outcome"],
    registry=REGISTRY,
)
SOURCING_SECONDS = Histogram(
    "omnistream_sourcing_decide_seconds",
    "Time to source one order against the worker's snapshot (the pure decision)",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25),
    registry=REGISTRY,
)
SAGA_INPUTS = Counter(
    "omnistream_order_saga_inputs_total",
    "Records the order saga handled, by verdict (applied, redelivered, duplicate, ignored)",
    ["topic", "verdict"],
    registry=REGISTRY,
)
WALLET_COMMANDS = Counter(
    "omnistream_wallet_commands_total",
    "Wallet commands, by type and verdict (applied, redelivered, forwarded: the wallet was merged away)",
    ["type", "verdict"],
    registry=REGISTRY,
)
FRAUD_ALERTS = Counter(
    "omnistream_fraud_alerts_total", "Fraud alerts raised by this worker's rules, by rule and severity",
    ["rule", "severity"], registry=REGISTRY,
)
FRAUD_WEBHOOK = Counter(
    "omnistream_fraud_webhook_posts_total", "Fraud alert webhook deliveries, by outcome (ok, failed)", ["outcome"],
    registry=REGISTRY,
)
FRAUD_WAITING = Gauge(
    "omnistream_fraud_waiting_keys", "Receipts with returns waiting for their sale, "
    "by partition of fraud.facts", ["partition"], registry=REGISTRY,
)
WALLET_TIMER_LATENESS = Gauge(
    "omnistream_wallet_timer_lateness_seconds",
    "How late the oldest wallet change that time made (maturity, expiry, tier lapse) is in being advanced",
    registry=REGISTRY,
)
