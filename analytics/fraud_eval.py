"""Precision and recall of each fraud rule against the simulator's labelled cases.

`python -m analytics.fraud_eval --labels PATH [--duckdb PATH]` scores the alerts in the
analytics snapshot (`fct_fraud_alerts`) against a published run's labels;
`python -m analytics.fraud_eval --offline --events N --seed S` simulates a day with fraud and
judges it in-process first (`analytics.fraud_offline`). Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sim.fraud import DEFAULT_LABELS, FraudCase, read_labels

RULES = (
    "redemption_velocity",
    "linked_accounts",
    "return_without_purchase",
    "return_above_value",
    "buy_earn_return",
    "cashier_exceptions",
    "till_price_below_central",
)
# What names the case an alert is about, per rule: the entity itself, or ids in its evidence.
BY_ENTITY = {"redemption_velocity", "linked_accounts", "cashier_exceptions"}
EVIDENCE_KEYS = {
    "return_without_purchase": "return_id",
    "return_above_value": "return_id",
    "till_price_below_central": "receipt_id",
    "buy_earn_return": "key",  # the purchase keys; the entity (customer id) is matched too
}


def alert_keys(alert: Mapping[str, Any]) -> set[str]:
    """The keys of an alert a label's `match` is compared with."""
    rule = alert["rule"]
    keys = {alert["entity_id"]} if rule in BY_ENTITY or rule == "buy_earn_return" else set()
    field_name = EVIDENCE_KEYS.get(rule)
    if field_name:
        keys |= {str(item[field_name]) for item in alert["evidence"] if field_name in item}
    return keys


@dataclass(frozen=True)
class RuleScore:
    rule: str
    labels: int
    alerts: int
    true_positives: int  # alerts matching a label of the rule
    false_positives: int  # alerts matching none
    false_negatives: int  # labels no alert matched
    precision: float | None  # None: the rule raised nothing
    recall: float | None  # None: nothing of the rule was injected
    false_positive_ids: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # descriptions of the labels missed


def score(alerts: Iterable[Mapping[str, Any]], labels: Iterable[FraudCase]) -> dict[str, RuleScore]:
    """Per rule: an alert is a true positive if its keys meet a label's `match` of the same rule;
    a label is detected if any alert matched it. Several alerts may match one label."""
    alerts, labels = list(alerts), list(labels)
    rules = list(dict.fromkeys([*RULES, *(a["rule"] for a in alerts), *(c.rule for c in labels)]))
    out = {}
    for rule in rules:
        mine = [case for case in labels if case.rule == rule]
        raised = [a for a in alerts if a["rule"] == rule]
        detected: set[int] = set()
        false_positives: list[str] = []
        for alert in raised:
            keys = alert_keys(alert)
            hits = {n for n, case in enumerate(mine) if keys & set(case.match)}
            detected |= hits
            if not hits:
                false_positives.append(alert["alert_id"])
        tp = len(raised) - len(false_positives)
        out[rule] = RuleScore(
            rule=rule, labels=len(mine), alerts=len(raised), true_positives=tp,
            false_positives=len(false_positives), false_negatives=len(mine) - len(detected),
            precision=tp / len(raised) if raised else None, recall=len(detected) / len(mine) if mine else None,
            false_positive_ids=false_positives,
            missed=[case.description for n, case in enumerate(mine) if n not in detected],
        )
    return out


def table(scores: Mapping[str, RuleScore]) -> str:
    """The scores as a Markdown table (docs/fraud.md shows it as printed)."""
    rows = ["| rule | injected | alerts | TP | FP | FN | precision | recall |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in scores.values():
        rows.append(f"| {s.rule} | {s.labels} | {s.alerts} | {s.true_positives} | {s.false_positives} | "
                    f"{s.false_negatives} | {_ratio(s.precision)} | {_ratio(s.recall)} |")
    return "\n".join(rows)


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def alerts_from_duckdb(path: Path) -> list[dict[str, Any]]:
    import duckdb

    from analytics.sql_files import sql

    with duckdb.connect(str(path), read_only=True) as con:
        frame = con.sql(sql("fraud_eval_alerts")).pl()
    return [{**row, "evidence": json.loads(row["evidence"])} for row in frame.to_dicts()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m analytics.fraud_eval", description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="the run's fraud labels (JSONL)")
    parser.add_argument("--duckdb", type=Path, help="analytics snapshot (default: settings' analytics path)")
    parser.add_argument("--offline", action="store_true", help="simulate and judge in-process, no Kafka")
    parser.add_argument("--events", type=int, default=20_000, help="offline: events in the day")
    parser.add_argument("--seed", type=int, default=42, help="offline: the day's seed")
    parser.add_argument("--fraud", type=float, default=0.002, help="offline: share of events opening a case")
    parser.add_argument("--show", action="store_true", help="also list false positives and misses")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from domain.fraud import rules_from
    from settings import Settings

    args = parse_args(argv)
    settings = Settings.from_env()
    if args.offline:
        from analytics.fraud_offline import run_offline
        from sim.config import SimConfig

        run = run_offline(SimConfig(events=args.events, seed=args.seed, fraud=args.fraud), rules_from(settings.fraud),
                          settings.identity_key)
        alerts: list[dict[str, Any]] = [a.model_dump(mode="json") for a in run.alerts]
        labels = run.labels
        print(f"offline: {args.events} events, seed {args.seed}, {len(labels)} labelled cases")
    else:
        if not args.labels.exists():
            print(f"no fraud labels at {args.labels}: `python -m sim` and `make demo` write them there; "
                  "pass --labels FILE, or score a simulated day in-process with --offline", file=sys.stderr)
            return 2
        alerts, labels = alerts_from_duckdb(args.duckdb or settings.analytics_path), read_labels(args.labels)
    scores = score(alerts, labels)
    print(table(scores))
    if args.show:
        by_id = {a["alert_id"]: a for a in alerts}
        for s in scores.values():
            for alert_id in s.false_positive_ids:
                print(f"FP {s.rule}: {by_id[alert_id]['summary']}")
            for description in s.missed:
                print(f"FN {s.rule}: {description}")
    print(json.dumps({rule: asdict(s) for rule, s in scores.items()}, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
