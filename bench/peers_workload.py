"""The race's workload: stock movements keyed by SKU, a few sent twice, and what they must leave.

Every runner of `bench.peers` reads the same input topic and keeps, per SKU, a changelog-backed
state `{"on_hand", "recent"}`: a movement whose `event_id` is among the SKU's last `RECENT`
applied is a duplicate and changes nothing; each input gives exactly one output
`{"event_id", "sku", "on_hand", "duplicate"}`. `step` is that rule; the Quix and Kafka Streams
runners spell it again in their own language (bench/peers_quix_app.py, bench/peers_kstreams/).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

RECENT = 64


@dataclass(frozen=True)
class Movement:
    key: bytes
    value: bytes
    event_id: str
    sku: str
    delta: int


def movements(count: int, skus: int, duplicate_share: float = 0.02, seed: int = 7) -> list[Movement]:
    """`count` records over `skus` SKUs; about `duplicate_share` of them repeat a recent one."""
    rng = random.Random(seed)
    out: list[Movement] = []
    for i in range(count):
        if out and rng.random() < duplicate_share:
            out.append(out[-1 - rng.randrange(min(len(out), 10))])
            continue
        sku = f"SKU-{rng.randrange(skus):05d}"
        delta = rng.choice((-3, -2, -1, -1, 1, 2, 5, 10))
        value = {"event_id": f"m-{i}", "sku": sku, "delta": delta}
        out.append(Movement(sku.encode(), json.dumps(value, separators=(",", ":")).encode(), f"m-{i}", sku, delta))
    return out


def step(state: dict[str, Any] | None, movement: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(new state, output) of one movement on its SKU's state."""
    state = state or {"on_hand": 0, "recent": []}
    duplicate = movement["event_id"] in state["recent"]
    if not duplicate:
        state = {"on_hand": state["on_hand"] + movement["delta"],
                 "recent": [*state["recent"], movement["event_id"]][-RECENT:]}
    return state, {"event_id": movement["event_id"], "sku": movement["sku"], "on_hand": state["on_hand"],
                   "duplicate": duplicate}


def expected_on_hand(records: list[Movement]) -> dict[str, int]:
    """Final on hand per SKU when every movement is applied once, in order (duplicates ignored)."""
    states: dict[str, dict[str, Any]] = {}
    for m in records:
        states[m.sku], _ = step(states.get(m.sku), {"event_id": m.event_id, "sku": m.sku, "delta": m.delta})
    return {sku: s["on_hand"] for sku, s in states.items()}
