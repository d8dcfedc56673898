"""The end-to-end phase of bench.fulfilment: orders without a node, placed to accepted, through a real broker.

A private Omnistream (bench.stack) on the local broker gets a 100-node network open around the
clock (so the figure does not depend on the hour it runs), stock at ~60 % of the nodes for 200
SKUs, and capacity that does not bind. Then:

- throughput: `orders` 5-line orders without a node, sent flat out: placed to accepted (or
  rejected) per second, one worker; baseline, in the same run: the same orders pinned to the
  node sourcing chose, through the same saga and authority (what sourcing adds to the path);
- latency: orders offered at `rate` per second: placed (sent) to the order's first status
  (read from `orders.status`), p50/p99; and the pure decision's time inside the worker
  (`decide_ms` of each decision on `fulfilment.decisions`), p50/p99.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.hold_traffic import Route, Traffic, run_exchange
from bench.holds import WireCommand, percentile
from bench.stack import Stack
from domain.fulfilment.defaults import default_costs, network_profile
from streams.codec import encode
from streams.fulfilment import NodeDefined, NodeKind, OpeningHours, SlotCapacity
from streams.orders import OrderPlaced, ShippingAddress
from streams.pos import SaleLine
from streams.stock import StockLine, StockReceived
from streams.topics import FULFILMENT_DECISIONS, FULFILMENT_NETWORK, INVENTORY_ADJUSTMENTS, ORDERS_STATUS, WEB_ORDERS

ORDERS_ROUTE = Route(requests=WEB_ORDERS, answers=ORDERS_STATUS, verdict="status", match="order_id")
KINDS: tuple[tuple[NodeKind, int], ...] = (("store", 80), ("warehouse", 15), ("dark_store", 5))
SKUS, UNITS, LINES = 200, 500, 5
SINCE = datetime(2020, 1, 1, tzinfo=UTC)
ALWAYS = [OpeningHours(weekday=d, opens="00:00", closes="24:00") for d in range(7)]


def nodes(rng: random.Random) -> list[NodeDefined]:
    out = []
    for kind, count in KINDS:
        for n in range(count):
            methods = ["ship", "same_day", "pickup"] if kind == "store" else ["ship", "same_day"]
            out.append(NodeDefined(
                event_id=f"bench-node-{kind}-{n}", occurred_at=SINCE, source_node="hq",
                node_id=f"{kind.replace('_', '-')}-{n:03d}", version=1, effective_from=SINCE, kind=kind,
                lat=round(rng.uniform(51.3, 53.4), 5), lon=round(rng.uniform(4.0, 6.9), 5), hours=ALWAYS,
                methods=methods,  # type: ignore[arg-type]
                capacity=[SlotCapacity(method=m, per_hour=100_000) for m in methods],  # type: ignore[arg-type]
                prep_minutes=30, protected_units=0,
            ))
    return out


def stock(rng: random.Random, defined: list[NodeDefined]) -> dict[str, list[str]]:
    """node -> the SKUs it stocks (UNITS each)."""
    return {n.node_id: [f"SKU-{s:05d}" for s in range(SKUS) if rng.random() < 0.6] for n in defined}


def orders(rng: random.Random, run: str, count: int, defined: list[NodeDefined], label: str) -> list[OrderPlaced]:
    stores = [n for n in defined if n.kind == "store"]
    now = datetime.now(UTC)
    out = []
    for i in range(count):
        home = rng.choice(stores)
        skus = rng.sample(range(SKUS), LINES)
        order_id = f"or-{run}-{label}-{i}"
        out.append(OrderPlaced(
            event_id=f"ev-{order_id}", occurred_at=now, source_node="web", order_id=order_id, channel="web",
            delivery="ship_to_address",
            ship_to=ShippingAddress(postcode="1011AB", country="NL", lat=round(home.lat + rng.gauss(0, 0.05), 5),
                                    lon=round(home.lon + rng.gauss(0, 0.05), 5)),
            lines=[SaleLine(line_no=k + 1, sku=f"SKU-{s:05d}", quantity=1, unit_price_cents=2_500)
                   for k, s in enumerate(skus)],
        ))
    return out


def wire(events: list[OrderPlaced]) -> list[WireCommand]:
    return [WireCommand(key=WEB_ORDERS.key_for(e), value=encode(e), command_id=e.order_id) for e in events]


def load(stack: Stack, defined: list[NodeDefined], stocked: dict[str, list[str]]) -> None:
    s = stack.settings
    producer = KafkaProducer(bootstrap_servers=s.bootstrap.split(","), acks="all", linger_ms=5,
                             **s.security.kafka_python_kwargs())
    for event in [default_costs(SINCE), network_profile(SINCE), *defined]:
        producer.send(FULFILMENT_NETWORK.full_name(s.topic_prefix), key=FULFILMENT_NETWORK.key_for(event),
                      value=encode(event))
    for node_id, skus in stocked.items():
        receipt = StockReceived(event_id=f"bench-rcv-{node_id}", occurred_at=datetime.now(UTC), source_node=node_id,
                                delivery_id=f"d-{node_id}", supplier_id="bench",
                                lines=[StockLine(sku=sku, quantity=UNITS) for sku in skus])
        producer.send(INVENTORY_ADJUSTMENTS.full_name(s.topic_prefix), key=node_id.encode(), value=encode(receipt))
    producer.flush()
    producer.close()


def first_plans(stack: Stack, order_ids: set[str], timeout_s: float = 60) -> dict[str, dict[str, Any]]:
    """Each order's first decision, as the worker published it (read to the topic's end)."""
    s = stack.settings
    consumer = KafkaConsumer(bootstrap_servers=s.bootstrap.split(","), group_id=None, enable_auto_commit=False,
                             **s.security.kafka_python_kwargs())
    found: dict[str, dict[str, Any]] = {}
    try:
        topic = FULFILMENT_DECISIONS.full_name(s.topic_prefix)
        tps = [TopicPartition(topic, p) for p in range(FULFILMENT_DECISIONS.partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end for tp, end in ends.items()) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                for record in batch:
                    decision = json.loads(record.value)
                    if decision["order_id"] in order_ids:
                        found.setdefault(decision["order_id"], decision)
    finally:
        consumer.close()
    return found


def pinned(events: list[OrderPlaced], plans: dict[str, dict[str, Any]], label: str) -> list[OrderPlaced]:
    """The same orders, each pinned to the single node sourcing chose (split ones left out)."""
    out = []
    for event in events:
        plan = plans.get(event.order_id)
        if plan is None or len(plan["shipments"]) != 1:
            continue
        order_id = f"{event.order_id}-{label}"
        out.append(event.model_copy(update={"order_id": order_id, "event_id": f"ev-{order_id}",
                                            "fulfilment_node": plan["shipments"][0]["node"]}))
    return out


def rate_of(traffic: Traffic) -> float:
    seconds = traffic.seconds or float("inf")
    return round(len(traffic.answered_at) / seconds, 1)


def e2e(stack: Stack, count: int, latency_orders: int, rate: float, progress: bool) -> dict[str, object]:
    rng = random.Random(20261207)
    defined = nodes(rng)
    load(stack, defined, stock(rng, defined))
    settings = stack.settings
    warm = orders(rng, stack.run, 50, defined, "warm")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # until the snapshot, the capacity slots and the stock are in
        traffic = run_exchange(settings, wire(warm[:5]), None, False, "warm-up", route=ORDERS_ROUTE)
        if traffic.answers.get("accepted"):
            break
        warm = warm[5:] or orders(rng, stack.run, 50, defined, f"warm{int(time.monotonic())}")
        time.sleep(2)
    flat = orders(rng, stack.run, count, defined, "flat")
    sourced = run_exchange(settings, wire(flat), None, progress, "sourced orders", route=ORDERS_ROUTE)
    plans = first_plans(stack, {e.order_id for e in flat})
    baseline = run_exchange(settings, wire(pinned(flat, plans, "pinned")), None, progress, "pinned orders",
                            route=ORDERS_ROUTE)
    paced = orders(rng, stack.run, latency_orders, defined, "paced")
    timed = run_exchange(settings, wire(paced), rate, progress, f"{rate:g} orders/s", route=ORDERS_ROUTE)
    decide_ms = [d["decide_ms"] for d in first_plans(stack, {e.order_id for e in paced}).values()]
    latencies = timed.latencies_s()
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    d50, d99 = percentile(decide_ms, 50), percentile(decide_ms, 99)
    return {
        "orders_per_s": rate_of(sourced), "orders": count, "e2e_outcomes": dict(sourced.answers),
        "baseline_pinned_orders_per_s": rate_of(baseline), "baseline_orders": len(baseline.answered_at),
        "offered_per_s": rate, "accept_p50_ms": None if p50 is None else round(p50 * 1000, 1),
        "accept_p99_ms": None if p99 is None else round(p99 * 1000, 1), "latency_outcomes": dict(timed.answers),
        "decide_p50_ms": None if d50 is None else round(d50, 3),
        "decide_p99_ms": None if d99 is None else round(d99, 3),
        "e2e_nodes": len(defined), "e2e_skus": SKUS, "e2e_lines": LINES,
        "splits": sum(1 for p in plans.values() if len(p["shipments"]) > 1),
        "latency_window_s": round(latency_orders / rate, 1),
    }
