"""The demo's fulfilment story: the network published, one order sourced by it and explained."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from kafka import KafkaProducer

from ops.clock import Clock
from ops.network import network_events, publish
from ops.processes import get_json
from settings import Settings
from sim.config import SimConfig
from sim.network import build_network
from sim.producer import producer_config
from streams.codec import encode
from streams.orders import OrderPlaced, ShippingAddress
from streams.pos import SaleLine
from streams.topics import WEB_ORDERS


def publish_network(settings: Settings, seed: int) -> int:
    """The simulated chain's nodes, the default costs and profiles; returns how many events."""
    config = SimConfig(seed=seed)
    events = network_events(config, config.start.replace(year=2020))
    publish(events, settings)
    return len(events)


def sourced_order(settings: Settings, seed: int, sku: str, price_cents: int) -> None:
    """A web order with no node: the network chooses, and the worker explains why."""
    network = build_network(SimConfig(seed=seed), random.Random(f"{seed}:network"))
    customer = network.customers[0]
    now = Clock.from_settings(settings.clock_shift, settings.clock_file).now()
    order_id = f"or-sourced-{int(time.time())}"
    order = OrderPlaced(
        event_id=f"ev-{order_id}", occurred_at=now, source_node="web", order_id=order_id, channel="web",
        delivery="ship_to_address", ship_to=ShippingAddress(postcode=customer.postcode.replace(" ", ""), country="NL",
                                                            lat=customer.lat, lon=customer.lon),
        lines=[SaleLine(line_no=1, sku=sku, quantity=1, unit_price_cents=price_cents)],
    )
    kafka = KafkaProducer(**producer_config(settings))  # acks=all, idempotent
    try:
        kafka.send(WEB_ORDERS.full_name(settings.topic_prefix), key=WEB_ORDERS.key_for(order),
                   value=encode(order)).get(timeout=10)
    finally:
        kafka.close()
    base = f"http://127.0.0.1:{settings.web_port}"
    body: dict[str, Any] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and body.get("status") in (None, "pending"):
        time.sleep(0.5)
        body = get_json(f"{base}/orders/{order_id}/")[1] or {}
    explained = get_json(f"{base}/orders/{order_id}/sourcing/")[1] or {}
    print(f"\nAn order with no node: 1 x {sku} to {customer.postcode} ({customer.lat:.3f}, {customer.lon:.3f}), "
          f"standard delivery. The network chose; order status: {body.get('status')}")
    for line in explain(explained):
        print("  " + line)
    print(f"  read it: curl -H @.run/demo/demo-web.headers {base}/orders/{order_id}/sourcing/")


def explain(explained: dict[str, Any]) -> list[str]:
    """A sourcing decision in a few lines a person can read."""
    decisions = explained.get("decisions") or []
    if not decisions:
        return [f"no decision recorded: {explained.get('error', 'unknown')}"]
    d = decisions[-1]
    out = [f"decision {d['attempt']} ({d['outcome']}, profile {d['profile_id']} v{d['profile_version']}, "
           f"{d['decide_ms']:.2f} ms): {d['reason'] or 'the best plan below'}"]
    for s in d["shipments"]:
        units = sum(line["quantity"] for line in s["lines"])
        out.append(f"ships from {s['node']} ({s['method']}, {units} unit(s), slot {s['slot_start'][11:16]} UTC, "
                   f"{s['km']:.1f} km, {s['cost_cents'] / 100:.2f} EUR, promised {s['promised_at'][:16]})")
    for c in d["candidates"][:3]:
        criteria = ", ".join(f"{k} {v:g}" for k, v in c["criteria"].items())
        out.append(f"candidate {c['rank']}: {'+'.join(c['nodes'])}: {criteria}")
    reasons = Counter(e["reason"] for e in d["eliminated"])
    if reasons:
        out.append("eliminated: " + ", ".join(f"{n} {reason}" for reason, n in reasons.most_common()))
    out.append(f"{d['candidates_scored']} plans scored")
    return out


def backtest_table(seed: int) -> None:
    """The quick backtest's side-by-side table: what the network profile saves against warehouse-first."""
    print(f"\nBacktest, network vs warehouse-first (python -m analytics.backtest --quick --seed {seed}; the full "
          "month without --quick, docs/fulfilment.md):")
    done = subprocess.run([sys.executable, "-m", "analytics.backtest", "--quick", "--seed", str(seed)],
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        print(f"  the backtest failed ({done.returncode}): {done.stderr.strip()[-500:]}", file=sys.stderr)
        return
    report = done.stdout.split("\nSensitivity:")[0]
    print("\n".join("  " + line for line in report.strip().splitlines()))
