"""What each dashboard panel shows, as JSON: shaped from query rows and source answers (no I/O here)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

POSITION_FIELDS = ("on_hand", "held", "atp", "damaged", "safety", "in_transit")


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def stock(sku: str, worker_body: dict[str, Any]) -> dict[str, Any]:
    """The worker's /stock/{sku}/ answer as one row per node, most available to promise first."""
    nodes = [
        {"node": node, **{name: int(position.get(name, 0)) for name in POSITION_FIELDS}}
        for node, position in (worker_body.get("nodes") or {}).items()
    ]
    nodes.sort(key=lambda row: (-row["atp"], -row["on_hand"], row["node"]))
    totals = {name: sum(row[name] for row in nodes) for name in POSITION_FIELDS}
    through = worker_body.get("applied_through_offset")
    return {"sku": sku, "nodes": nodes, "totals": totals, "applied_through_offset": through}


def skus(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"skus": [
        {"sku": r["sku"], "units_today": int(r["units_today"]), "on_hand": int(r["on_hand"])} for r in rows
    ]}


def sales_today(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Sales by channel on the latest day with sales; `day` says which day that is (UTC)."""
    channels = [
        {"channel": r["channel"], "lines": int(r["lines"]), "units": int(r["units"]),
         "net_sales": round(float(r["net_sales"]), 2), "nodes": int(r["nodes"])}
        for r in rows
    ]
    total = {
        "lines": sum(c["lines"] for c in channels),
        "units": sum(c["units"] for c in channels),
        "net_sales": round(sum(c["net_sales"] for c in channels), 2),
    }
    day = rows[0]["day"].isoformat() if rows else None
    return {"day": day, "timezone": "UTC", "channels": channels, "total": total}


def points(rows: list[dict[str, Any]]) -> dict[str, Any]:
    row = rows[0] if rows else {}
    return {name: int(row.get(name) or 0) for name in ("wallets", "pending", "available", "held", "outstanding")}


def alerts(rows: list[dict[str, Any]], counts: list[dict[str, Any]]) -> dict[str, Any]:
    count = counts[0] if counts else {}
    return {"alerts": [jsonable(r) for r in rows], "total": int(count.get("alerts") or 0),
            "high": int(count.get("high") or 0)}


SUMMARY_COUNTS = ("decisions", "orders_sourced", "pinned", "split_orders", "units", "promise_known", "resourcings",
                  "rejections", "waits")
SUMMARY_FIGURES = ("split_rate", "cost_per_order", "km_per_order", "warehouse_share", "same_day_share",
                   "promise_met_share")


def fulfilment(summary: list[dict[str, Any]], decisions: list[dict[str, Any]]) -> dict[str, Any]:
    """Sourcing on the latest day with decisions (None before the first) and the latest decisions."""
    row = summary[0] if summary else None
    figures = None if row is None else {
        **{name: int(row[name] or 0) for name in SUMMARY_COUNTS},
        **{name: None if row[name] is None else float(row[name]) for name in SUMMARY_FIGURES},
    }
    latest = [
        {**jsonable(d), "cost": float(d["cost"]), "km": float(d["km"]), "nodes": list(d["nodes"] or [])}
        for d in decisions
    ]
    return {"day": row["day"].isoformat() if row else None, "timezone": "UTC", "summary": figures,
            "decisions": latest}


VARIANCE_ROWS = 20


def pricing(cost: list[dict[str, Any]], burn: list[dict[str, Any]], variances: list[dict[str, Any]]) -> dict[str, Any]:
    """Promotion cost over the 7 days up to the latest day with uses, budget burn, and till variances by cause
    (every store) and by store and cause (the largest VARIANCE_ROWS)."""
    promotions = [
        {"promotion_id": r["promotion_id"], "name": r["name"], "discount_today": _float(r["discount_today"]),
         "uses_today": int(r["uses_today"]), "discount_7d": _float(r["discount_7d"]), "uses_7d": int(r["uses_7d"]),
         "baskets_7d": int(r["baskets_7d"]), "bonus_points_7d": int(r["bonus_points_7d"])}
        for r in cost
    ]
    budgets = [
        {"promotion_id": r["promotion_id"], "name": r["name"], "scope": r["budget_scope"],
         "period": r["budget_period"], "scope_key": r["scope_key"], "period_key": r["period_key"],
         "money_burnt": _optional_float(r["money_burnt"]), "count_burnt": _optional_float(r["count_burnt"]),
         "burnt": _float(r["burnt"]), "accounts_exhausted": int(r["accounts_exhausted"]),
         "accounts": int(r["accounts"])}
        for r in burn
    ]
    lines = [
        {"store": r["store"], "cause": r["cause"], "lines": int(r["lines"]), "variance": _float(r["variance"]),
         "paid_less": _float(r["paid_less"]), "paid_more": _float(r["paid_more"]), "stale_lines": int(r["stale_lines"]),
         "max_versions_behind": None if r["max_versions_behind"] is None else int(r["max_versions_behind"])}
        for r in variances
    ]
    by_cause: dict[str, dict[str, Any]] = {}
    for line in lines:
        cause = by_cause.setdefault(line["cause"], {"cause": line["cause"], "lines": 0, "variance": 0.0})
        cause["lines"] += line["lines"]
        cause["variance"] = round(cause["variance"] + line["variance"], 2)
    day = cost[0]["day"].isoformat() if cost else None
    return {"day": day, "timezone": "UTC", "promotions": promotions, "budgets": budgets,
            "variances_by_cause": sorted(by_cause.values(), key=lambda c: (-abs(c["variance"]), c["cause"])),
            "variances": lines[:VARIANCE_ROWS]}


def _float(value: Any) -> float:
    return float(value or 0)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)", re.M)


def metric_samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """Every sample of metric `name` in Prometheus text: (labels, value)."""
    found = []
    for match in _SAMPLE.finditer(text):
        if match["name"] == name:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
            found.append((labels, float(match["value"])))
    return found


def histogram_quantile(text: str, name: str, q: float) -> float | None:
    """The upper bound of the bucket holding quantile q of histogram `name`; None without samples."""
    buckets = sorted(
        (float(labels["le"]), count) for labels, count in metric_samples(text, name + "_bucket") if "le" in labels
    )
    if not buckets or buckets[-1][1] == 0:
        return None
    wanted = q * buckets[-1][1]
    return next(le for le, count in buckets if count >= wanted)


def projection_lag(sink_status: dict[str, Any] | None, sink_metrics: str | None) -> dict[str, Any]:
    """Kafka append time on the source topic to queryable in the analyst snapshot: from the sink's
    status table if it has one, else its histogram."""
    if sink_status and sink_status.get("lag_p50_ms") is not None:
        return {
            "source": "sink_status",
            "exact": True,
            **_seconds(sink_status, "lag"),
            "records": sink_status.get("records"),
            "published_at": jsonable(sink_status.get("published_at")),
        }
    return _from_histogram(sink_metrics, "omnistream_projection_lag_seconds")


def event_lateness(sink_status: dict[str, Any] | None, sink_metrics: str | None) -> dict[str, Any]:
    """Business time (occurred_at) to Kafka append time: how late producers sent the events, not
    how far behind the pipeline is (a replayed day is weeks late and seconds behind)."""
    if sink_status and sink_status.get("lateness_p50_ms") is not None:
        return {"source": "sink_status", "exact": True, **_seconds(sink_status, "lateness")}
    return _from_histogram(sink_metrics, "omnistream_event_lateness_seconds")


def _seconds(sink_status: dict[str, Any], figure: str) -> dict[str, float | None]:
    return {f"{q}_s": _ms(sink_status.get(f"{figure}_{q}_ms")) for q in ("p50", "p99", "max")}


def _from_histogram(sink_metrics: str | None, name: str) -> dict[str, Any]:
    if sink_metrics:
        p50, p99 = histogram_quantile(sink_metrics, name, 0.5), histogram_quantile(sink_metrics, name, 0.99)
        if p50 is not None:
            return {"source": "sink histogram (bucket upper bounds, since the sink started)", "exact": False,
                    "p50_s": p50, "p99_s": p99, "max_s": None}
    return {"source": None, "exact": False, "p50_s": None, "p99_s": None, "max_s": None}


def _ms(value: Any) -> float | None:
    return None if value is None else round(float(value) / 1000, 3)


def lag(
    snapshot_age_s: float | None,
    stale_after_s: float,
    sink_health: dict[str, Any] | None,
    sink_metrics: str | None,
    sink_status: dict[str, Any] | None,
    problems: list[str],
) -> dict[str, Any]:
    """How far behind the dashboard's DuckDB panels are, and whether to call them stale (and why)."""
    waiting = None
    if sink_metrics is not None:
        waiting = int(sum(v for _, v in metric_samples(sink_metrics, "omnistream_sink_lag_records")))
    reasons = list(problems)
    if snapshot_age_s is not None and snapshot_age_s > stale_after_s and (sink_health is None or waiting):
        reasons.append(f"the analytics snapshot is {snapshot_age_s:.0f} s old")
    return {
        "snapshot_age_s": None if snapshot_age_s is None else round(snapshot_age_s, 1),
        "sink_up": sink_health is not None and sink_health.get("status") == "ok",
        "seconds_since_commit": (sink_health or {}).get("seconds_since_commit"),
        "sink_records_waiting": waiting,
        "projection": projection_lag(sink_status, sink_metrics),
        "lateness": event_lateness(sink_status, sink_metrics),
        "stale": bool(reasons),
        "stale_reasons": reasons,
        "stale_after_s": stale_after_s,
    }
