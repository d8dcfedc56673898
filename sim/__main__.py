"""`python -m sim`: simulate a retail day, publish it (or not), print a summary and the report JSON."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from sim.config import SimConfig
from sim.fraud import DEFAULT_LABELS, FraudCase, write_labels
from sim.producer import PublishError
from sim.publish import run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = SimConfig()
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="Publish one deterministic simulated retail day to the Omnistream ingest topics. "
        "The last stdout line is the run's report as JSON.",
    )
    parser.add_argument("--events", type=int, default=defaults.events, help="events to send, opening stock included")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="same seed and sizes, same events")
    parser.add_argument("--rate", type=float, default=defaults.rate, help="events per second; 0 = unlimited")
    parser.add_argument("--stores", type=int, default=defaults.stores)
    parser.add_argument("--warehouses", type=int, default=defaults.warehouses)
    parser.add_argument("--skus", type=int, default=defaults.skus)
    parser.add_argument("--customers", type=int, default=defaults.customers)
    parser.add_argument("--run", default=defaults.run, help="label in every id; vary it to resend a seed")
    parser.add_argument(
        "--start",
        type=datetime.fromisoformat,
        default=defaults.start,
        help="simulated opening time, ISO 8601 with offset",
    )
    parser.add_argument("--fraud", type=float, default=defaults.fraud, help="share of events opening a fraud case")
    parser.add_argument(
        "--labels",
        type=Path,
        help=f"write the fraud cases' labels (JSONL) here (a published run: default {DEFAULT_LABELS})",
    )
    parser.add_argument("--report", type=Path, help="also write the report JSON to this file")
    parser.add_argument("--dry-run", action="store_true", help="generate and report without Kafka")
    parser.add_argument("--create-topics", action="store_true", help="create missing topics first")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> SimConfig:
    return SimConfig(
        events=args.events,
        seed=args.seed,
        rate=args.rate,
        stores=args.stores,
        warehouses=args.warehouses,
        skus=args.skus,
        customers=args.customers,
        run=args.run,
        start=args.start,
        fraud=args.fraud,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = config_from(args)
    except ValueError as exc:
        print(f"python -m sim: {exc}", file=sys.stderr)
        return 2
    began = time.perf_counter()
    try:
        report = run(config, publish=not args.dry_run, progress=not args.no_progress, create_topics=args.create_topics)
    except PublishError as exc:
        print(f"python -m sim: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - began
    text = report.to_json()
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text + "\n")
    labels = args.labels or (None if args.dry_run else DEFAULT_LABELS)
    if labels is not None:
        write_labels([FraudCase.from_dict(case) for case in report.fraud_cases], labels)
    verb = "generated (dry run)" if args.dry_run else "published"
    try:
        print(f"{verb} {report.events} events in {elapsed:.2f} s ({report.events / max(elapsed, 1e-9):,.0f}/s)")
        print(report.summary())
        print(text, flush=True)
    except BrokenPipeError:  # `python -m sim | head`: the reader left, which is not an error here
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
