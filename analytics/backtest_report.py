"""The backtest's report as aligned plain text and as one JSON object: same figures, same text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from domain.fulfilment.backtest.figures import DELIVERY_ORDER, Comparison, Figures
from domain.fulfilment.backtest.sensitivity import Parcel, Sensitivity

Format = Callable[[float], str]


@dataclass(frozen=True)
class Report:
    setup: dict[str, Any]
    comparison: Comparison
    parcel: Parcel
    sensitivity: tuple[Sensitivity, ...]


def _count(v: float) -> str:
    return f"{v:,.0f}"


def _eur(v: float) -> str:
    return f"{v:,.2f}"


def _one(v: float) -> str:
    return f"{v:,.1f}"


def _two(v: float) -> str:
    return f"{v:.3f}"


def _share(v: float) -> str:
    return f"{v:.1%}"


# label, figure, how to show it, how to show the change ("pct": relative, "diff": network - baseline)
ROWS: tuple[tuple[str, str, Format, str], ...] = (
    ("orders", "orders", _count, "diff"),
    ("planned", "planned", _count, "diff"),
    ("rejected", "rejected", _count, "diff"),
    ("waiting (pick-up store short)", "waiting", _count, "diff"),
    ("not planned: stock-outs", "not_planned_for_stock", _count, "diff"),
    ("refused (snapshot wrong)", "refused", _count, "diff"),
    ("cost per planned order, EUR", "cost_per_order_eur", _eur, "pct"),
    ("km per planned order", "km_per_order", _one, "pct"),
    ("split rate", "split_rate", _share, "diff"),
    ("shipments per order", "shipments_per_order", _two, "diff"),
    ("promise met", "promise_met", _share, "diff"),
    ("warehouse share of units", "warehouse_share", _share, "diff"),
    ("same-day orders served", "same_day_served", _share, "diff"),
    ("store labour hours", "store_labour_hours", _one, "pct"),
    ("walk-in stock-outs", "walk_in_stockouts", _count, "diff"),
    ("  at SKUs picked online", "walk_in_stockouts_after_online", _count, "diff"),
)


def render(report: Report) -> str:
    s, c = report.setup, report.comparison
    lines = [
        f"Backtest, network vs warehouse-first: seed {s['seed']}, {s['days']} days from {s['start']}, "
        f"{s['orders']:,} orders, {s['stores']} stores, {s['warehouses']} warehouses, {s['skus']} SKUs, "
        f"{s['walk_ins']:,} walk-in units",
        "",
        *_side_by_side(c.baseline, c.network),
        "",
        f"Change in cost per planned order: {c.change_pct:+.1f} % "
        f"(EUR {c.baseline.cost_per_order_eur:.2f} -> {c.network.cost_per_order_eur:.2f}).",
        f"Like for like, the {c.common_orders:,} orders both profiles planned: {c.like_for_like_pct:+.1f} % "
        f"(EUR {c.baseline_common_eur:.2f} -> {c.network_common_eur:.2f}).",
        "",
        *_sensitivity(report),
    ]
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> dict[str, Any]:
    return {"setup": report.setup, "comparison": asdict(report.comparison), "parcel": asdict(report.parcel),
            "sensitivity": [asdict(row) for row in report.sensitivity]}


def _side_by_side(baseline: Figures, network: Figures) -> list[str]:
    rows = [("", baseline.profile_id, network.profile_id, "change")]
    for label, name, show, how in ROWS:
        before, after = float(getattr(baseline, name)), float(getattr(network, name))
        rows.append((label, show(before), show(after), _change(before, after, show, how)))
    for delivery in DELIVERY_ORDER:
        asked = baseline.asked_by_delivery.get(delivery, 0)
        before, after = baseline.planned_by_delivery.get(delivery, 0), network.planned_by_delivery.get(delivery, 0)
        rows.append((f"planned {delivery} (of {asked:,})", _count(before), _count(after), f"{after - before:+,}"))
    return _table(rows, right_from=1)


def _change(before: float, after: float, show: Format, how: str) -> str:
    if how == "pct":
        return f"{(after - before) / before * 100:+.1f} %" if before else "n/a"
    if show is _share:
        return f"{(after - before) * 100:+.1f} pt"
    return "+" + show(after - before) if after >= before else show(after - before)


def _sensitivity(report: Report) -> list[str]:
    p = report.parcel
    rows = [("variant", "store handling", "store parcel", "warehouse parcel", "store vs wh", "baseline EUR",
             "network EUR", "change", "like for like")]
    for row in report.sensitivity:
        c = row.comparison
        rows.append((row.variant.label, f"x{row.variant.store_handling:.2f}", _eur(row.store_parcel_eur),
                     _eur(row.warehouse_parcel_eur), f"{row.store_vs_warehouse_pct:+.1f} %",
                     _eur(c.baseline.cost_per_order_eur), _eur(c.network.cost_per_order_eur),
                     f"{c.change_pct:+.1f} %", f"{c.like_for_like_pct:+.1f} %"))
    return [f"Sensitivity: cost per planned order, network vs warehouse-first (reference parcel: {p.units} units, "
            f"a store {p.store_km:g} km and a warehouse {p.warehouse_km:g} km from the customer)",
            *_table(rows, right_from=1)]


def _table(rows: Sequence[Sequence[str]], right_from: int) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) if i >= right_from else cell.ljust(w)
                      for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip() for row in rows]
