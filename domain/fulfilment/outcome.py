"""A decision's explanation as contract models: the winner's shipments, the best candidates, the eliminated. Pure.

The search works on tuples and floats; the models are built here once, for the output only.
They are validated: pydantic's validator is faster than `model_construct` for these small
models, and a plan that breaks the contract fails here rather than on the consumer's side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import TypeAdapter

from domain.fulfilment.eligibility import Eliminated, Line
from domain.fulfilment.search import SHOWN, Found, Plan
from streams.fulfilment import Candidate, Elimination, Method, Shipment

# one validation call for a whole list costs less than one model at a time
_SHIPMENTS = TypeAdapter(tuple[Shipment, ...])
_CANDIDATES = TypeAdapter(tuple[Candidate, ...])
_ELIMINATIONS = TypeAdapter(tuple[Elimination, ...])
REASON_CHARS = 500  # FulfilmentDecided.reason's limit
_shared: dict[Eliminated, Elimination] = {}
_SHARED_LIMIT = 20_000


def shipments(plan: Plan, lines: tuple[Line, ...], method: Method) -> tuple[Shipment, ...]:
    return _SHIPMENTS.validate_python([
        {"node": leg.site.id, "method": method,
         "lines": [{"sku": lines[j][0], "quantity": lines[j][1]} for j in leg.lines],
         "slot_start": leg.slot.start, "ready_at": _utc(leg.slot.ready_ts), "promised_at": _utc(leg.promised_ts),
         "km": round(leg.km, 3), "cost_cents": leg.cost, "capacity_units": leg.capacity_units}
        for leg in plan.legs])


def candidates(plans: list[Plan]) -> tuple[Candidate, ...]:
    return _CANDIDATES.validate_python([{"nodes": plan.nodes, "criteria": criteria(plan), "score": plan.score,
                                         "rank": rank} for rank, plan in enumerate(plans[:SHOWN], start=1)])


def criteria(plan: Plan) -> dict[str, float]:
    promise, parcels, cost, distance, warehouse_share = plan.values
    return {"promise": promise, "shipments": parcels, "cost": cost, "distance": round(distance, 3),
            "warehouse_share": round(warehouse_share, 4)}


def eliminations(found: Iterable[Eliminated]) -> tuple[Elimination, ...]:
    """The eliminated in node order. A model that says nothing of this order (kind not allowed, closed)
    recurs in every decision: it is built once and shared, as frozen models can be."""
    ordered = sorted(found)
    if len(_shared) > _SHARED_LIMIT:
        _shared.clear()
    new = [e for e in ordered if e not in _shared]
    models = dict(zip(new, _ELIMINATIONS.validate_python([
        {"node": node, "reason": reason, "skus": skus, "detail": detail} for node, reason, skus, detail in new]),
        strict=True))
    _shared.update((e, m) for e, m in models.items() if not e[2])  # SKUs are the order's
    return tuple(models.get(e) or _shared[e] for e in ordered)


def tally(eliminated: Iterable[Eliminated]) -> str:
    """`3 closed, 12 kind_not_allowed`: how many nodes each reason ruled out, by reason."""
    counts = Counter(reason for _, reason, _, _ in eliminated)
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items())) or "none eliminated"


def missing(skus: list[str], lines: tuple[Line, ...], eliminated: list[Eliminated]) -> str:
    wanted = ", ".join(f"{sku} x{quantity}" for sku, quantity, _ in lines if sku in skus)
    return clip(f"no eligible node has {wanted} (eliminated: {tally(eliminated)})")


def exhausted(found: Found, max_split: int, budget: int, eliminated: list[Eliminated]) -> str:
    """Why the search found no plan: what ruled nodes out and what dropped the plans it scored."""
    parts = [f"no node or split of up to {max_split} nodes can serve every line",
             f"eliminated: {tally(eliminated)}"]
    if found.dropped["min_shipment"]:
        parts.append(f"{found.dropped['min_shipment']} splits had a shipment below the minimum value")
    if found.dropped["capacity"]:
        parts.append(f"{found.dropped['capacity']} plans lacked capacity for their units")
    if found.budget_spent or found.narrowed:
        parts.append(f"check budget of {budget} plans limited the search ({found.scored} scored)")
    return clip("; ".join(parts))


def planned(plan: Plan, scored: int) -> str:
    legs = ", ".join(f"{leg.site.id} ({leg.km:.1f} km)" for leg in plan.legs)
    return f"{_count(len(plan.legs), 'shipment')} from {legs}; {_count(scored, 'plan')} scored"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def clip(text: str) -> str:
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 3] + "..."


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
