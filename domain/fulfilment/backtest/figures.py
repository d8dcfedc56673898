"""The backtest's figures: each profile's month summed up, and the network against warehouse-first. Pure.

Cost per order counts planned orders only (their shipments' cost and the split penalty), so a
profile that rejects the dear orders looks cheaper; `Comparison.like_for_like` compares the
orders both profiles planned, the fairer figure for what the network saves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.fulfilment.backtest.replay import Outcome, Replayed

DELIVERY_ORDER = ("standard", "express", "same_day", "pickup")


@dataclass(frozen=True)
class Figures:
    """One profile's month: what was asked, what was planned, what it cost and where it was picked."""

    profile_id: str
    orders: int
    planned: int
    rejected: int
    waiting: int
    refused: int
    not_planned_for_stock: int  # rejected or waiting because units were missing
    cost_per_order_eur: float
    km_per_order: float
    split_rate: float  # share of planned orders in more than one shipment
    shipments_per_order: float
    promise_met: float  # share of planned orders whose every shipment keeps the promise
    warehouse_share: float  # of the planned units
    same_day_served: float  # of the same-day orders asked for
    store_labour_hours: float
    walk_ins: int
    walk_in_stockouts: int
    walk_in_stockouts_after_online: int
    planned_by_delivery: dict[str, int] = field(default_factory=dict)
    asked_by_delivery: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    """One profile's replay summed up: its figures and each planned order's cost."""

    figures: Figures
    costs: dict[str, int]  # planned order -> cents


@dataclass(frozen=True)
class Comparison:
    baseline: Figures
    network: Figures
    change_pct: float  # network's cost per planned order against the baseline's
    common_orders: int  # planned by both
    baseline_common_eur: float
    network_common_eur: float
    like_for_like_pct: float


def summarise(replayed: Replayed, store_units_per_hour: int) -> Run:
    costs = {o.order_id: o.cost_cents for o in replayed.outcomes if o.outcome == "planned"}
    return Run(figures=figures(replayed, store_units_per_hour), costs=costs)


def figures(replayed: Replayed, store_units_per_hour: int) -> Figures:
    outcomes = replayed.outcomes
    planned = [o for o in outcomes if o.outcome == "planned"]
    counts = Counter(o.outcome for o in outcomes)
    kinds: dict[str, str] = {node: defined.kind for node, defined in replayed.world.nodes.items()}
    units = sum(_units(o, kinds) for o in planned)
    warehouse_units = sum(_units(o, kinds, "warehouse") for o in planned)
    same_day_asked = sum(1 for o in outcomes if o.delivery == "same_day")
    same_day_planned = sum(1 for o in planned if o.delivery == "same_day")
    tally = replayed.tally
    return Figures(
        profile_id=replayed.profile_id, orders=len(outcomes), planned=len(planned), rejected=counts["rejected"],
        waiting=counts["waiting"], refused=counts["refused"],
        not_planned_for_stock=sum(1 for o in outcomes if o.outcome in ("rejected", "waiting") and o.why == "stock"),
        cost_per_order_eur=_mean([o.cost_cents / 100 for o in planned]),
        km_per_order=_mean([sum(s.km for s in o.shipments) for o in planned]),
        split_rate=_share(sum(1 for o in planned if len(o.shipments) > 1), len(planned)),
        shipments_per_order=_mean([len(o.shipments) for o in planned]),
        promise_met=_share(sum(1 for o in planned if o.promise_met), len(planned)),
        warehouse_share=_share(warehouse_units, units),
        same_day_served=_share(same_day_planned, same_day_asked),
        store_labour_hours=round(tally.store_units_picked / store_units_per_hour, 1),
        walk_ins=tally.walk_ins, walk_in_stockouts=tally.walk_in_stockouts,
        walk_in_stockouts_after_online=tally.walk_in_stockouts_after_online,
        planned_by_delivery=_by_delivery(planned), asked_by_delivery=_by_delivery(outcomes),
    )


def compare(baseline: Run, network: Run) -> Comparison:
    before, after = baseline.figures, network.figures
    common = sorted(baseline.costs.keys() & network.costs.keys())
    common_before = _mean([baseline.costs[order] / 100 for order in common])
    common_after = _mean([network.costs[order] / 100 for order in common])
    return Comparison(
        baseline=before, network=after, change_pct=change(before.cost_per_order_eur, after.cost_per_order_eur),
        common_orders=len(common), baseline_common_eur=common_before, network_common_eur=common_after,
        like_for_like_pct=change(common_before, common_after),
    )


def change(before: float, after: float) -> float:
    return round((after - before) / before * 100, 1) if before else 0.0


def _units(outcome: Outcome, kinds: dict[str, str], kind: str | None = None) -> int:
    return sum(line.quantity for s in outcome.shipments if kind is None or kinds[s.node] == kind for line in s.lines)


def _by_delivery(outcomes: Sequence[Outcome]) -> dict[str, int]:
    counts = Counter(o.delivery for o in outcomes)
    return {delivery: counts[delivery] for delivery in DELIVERY_ORDER}


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 3) if values else 0.0


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
