"""What one hold costs in Omnistream's own code, without Kafka or Faust: route, load, decide, save, answer.

Timed in this process on the worker's code paths (codec, `domain.authority.apply`, the stock
value's JSON), for a SKU that already carries `holds` holds. The worker's measured CPU per
hold minus this sum is what the Faust and Kafka client machinery costs per hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench.holds import TTL, Network, place_holds
from domain.stock import Position, SkuStock
from streams.codec import decode, encode
from streams.holds import Hold, PlaceHold
from streams.topics import INVENTORY_HOLD_REQUESTS, INVENTORY_MOVEMENTS
from tables.stock_once import apply

MAX_BYTES = 1 << 20


def stock_with(network: Network, holds: int, now: datetime) -> SkuStock:
    """SKU 0 stocked at every node, already holding `holds` open one-unit holds."""
    open_holds = {
        f"old-{n}": Hold(hold_id=f"old-{n}", order_id=f"oo-{n}", node=network.node(n), quantity=1,
                         expires_at=now + TTL, status="granted")
        for n in range(holds)
    }
    positions = {network.node(n): Position(on_hand=network.units) for n in range(network.nodes)}
    for hold in open_holds.values():
        positions[hold.node] = positions[hold.node].model_copy(update={"held": positions[hold.node].held + 1})
    return SkuStock(sku=network.sku(0), positions=positions, holds=open_holds, watermark=holds)


def _us(step: Callable[[], object], repeat: int) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        step()
    return 1e6 * (time.perf_counter() - t0) / repeat


def costs_us(network: Network, holds: int, repeat: int = 200) -> dict[str, float]:
    """Microseconds per hold for each step the router and the agent take, and the stock value's size."""
    now = datetime.now(UTC)
    stock = stock_with(network, holds, now)
    raw_stock = stock.model_dump_json().encode()
    raw_command = place_holds(network, "cost", holds, 1, now)[0].value
    command = decode(INVENTORY_MOVEMENTS, raw_command, MAX_BYTES)
    outcome = apply(stock, command, holds + 1, None, 0)
    steps: dict[str, Callable[[], object]] = {
        "router decode + encode": lambda: encode(decode(INVENTORY_HOLD_REQUESTS, raw_command, MAX_BYTES)),
        "agent decode": lambda: decode(INVENTORY_MOVEMENTS, raw_command, MAX_BYTES),
        "load stock value": lambda: SkuStock.model_validate_json(raw_stock),
        "decide": lambda: apply(stock, command, holds + 1, None, 0),
        "save stock value": lambda: outcome.stock.model_dump_json().encode(),
        "encode answer": lambda: [encode(a) for a in outcome.answers],
    }
    published = _availability_step(outcome.stock, command)
    if published is not None:
        steps["availability records"] = published
    costs = {name: round(_us(step, repeat), 1) for name, step in steps.items()}
    costs["total"] = round(sum(costs.values()), 1)
    costs["stock value bytes"] = len(raw_stock)
    return costs


def _availability_step(stock: SkuStock, command: PlaceHold) -> Callable[[], object] | None:
    """The availability records the agent publishes per hold, where this tree has them."""
    try:
        from domain.availability import availability, network_availability
    except ImportError:
        return None
    node, at, cause = command.node, command.occurred_at, command.event_id
    return lambda: [encode(r) for r in availability(stock, {node}, at, cause)] + [
        encode(network_availability(stock, at, cause))
    ]


def describe(costs: dict[str, float]) -> str:
    parts = [f"{name} {value:.0f}" for name, value in costs.items() if name not in ("total", "stock value bytes")]
    steps = ", ".join(parts)
    return f"{costs['total']:.0f} us ({steps}); stock value {costs['stock value bytes'] / 1000:.1f} KB"
