"""`python -m analytics.balancing`: store balancing, transfers proposed from the analyst snapshot.

Reads stock per SKU and node and the units sold there over the last `--window-days` from the
DuckDB snapshot (`analytics/sql/balancing_inputs.sql`), takes the stores and dark stores of the
fulfilment network with their coordinates from `fulfilment.network-versions` (without a
network: the stores by their id, and no distances), asks `domain.fulfilment.balancing.propose`,
and publishes each suggestion to `inventory.transfer-suggestions`; `--dry-run` prints them
instead. Without `--once` it runs again every `--every-hours`. See docs/inventory.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from kafka import KafkaProducer
from kafka.errors import KafkaError

from analytics.network_versions import BOOTSTRAP_TIMEOUT_MS, read_network
from analytics.sql_files import sql
from domain.fulfilment.balancing import COVER_CAP_DAYS, BalancingParams, Position, nodes_to_balance, propose
from ops import logs
from ops.clock import Clock
from settings import Settings
from streams.codec import encode
from streams.fulfilment import TransferSuggested
from streams.topics import INVENTORY_TRANSFER_SUGGESTIONS

log = logging.getLogger("omnistream.balancing")
SEND_TIMEOUT_S = 30.0
PARAM_HELP = {
    "window_days": "daily sales are the units sold over this many days, divided by them",
    "excess_cover_days": "a node with more days of cover than this may give",
    "target_cover_days": "a node with fewer days of cover than this (in transit counted) gets stock",
    "fill_cover_days": "a recipient is topped up to this many days of cover; a donor keeps this many",
    "min_display_units": "a donor always keeps at least this many units on the shelf",
    "min_units": "no suggestion moves fewer units",
    "max_per_sku": "at most this many suggestions per SKU per run",
}


@dataclass(frozen=True)
class Inputs:
    """What `propose` reads: the positions of the nodes to balance, their sales, where they are."""

    positions: list[Position]
    sales: dict[tuple[str, str], int]
    coordinates: dict[str, tuple[float, float]]


def read_inputs(con: duckdb.DuckDBPyConnection, as_of: datetime, window_days: int) -> pl.DataFrame:
    return con.sql(sql("balancing_inputs"), params={"as_of": as_of, "window_days": window_days}).pl()


def balanced(frame: pl.DataFrame, network_nodes: Mapping[str, tuple[float, float]] | None) -> Inputs:
    """The rows of the nodes to balance: the network's stores and dark stores, else the stores by id."""
    if network_nodes:
        rows = frame.filter(pl.col("node").is_in(list(network_nodes)))
    else:
        rows = frame.filter(pl.col("kind") == "store")
    positions = [Position(r["sku"], r["node"], r["on_hand"], r["atp"], r["in_transit"])
                 for r in rows.iter_rows(named=True)]
    sold = rows.filter(pl.col("units_sold") > 0)
    sales = dict(zip(zip(sold["sku"], sold["node"], strict=True), sold["units_sold"], strict=True))
    return Inputs(positions, sales, dict(network_nodes or {}))


def network_nodes(settings: Settings, as_of: datetime) -> dict[str, tuple[float, float]] | None:
    """The stores and dark stores of the network as of `as_of`; None when there is no network to read."""
    try:
        nodes = nodes_to_balance(read_network(settings).as_of(as_of))
    except (KafkaError, LookupError, TimeoutError) as err:
        log.warning("no fulfilment network (%r): balancing the stores by their id, without distances "
                    "(--no-network skips reading it)", err)
        return None
    if not nodes:
        log.warning("the fulfilment network has no stores as of %s: balancing the stores by their id, "
                    "without distances", as_of.isoformat())
        return None
    return nodes


def producer_config(settings: Settings) -> dict[str, Any]:
    """Idempotent and fully acknowledged, so a retry never duplicates a suggestion."""
    return {
        "bootstrap_servers": settings.bootstrap.split(","),
        "client_id": f"{settings.app_id}-balancing",
        "acks": "all",
        "enable_idempotence": True,
        "max_block_ms": 15_000,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
        **settings.security.kafka_python_kwargs(),
    }


def publish(producer: Any, suggestions: list[TransferSuggested], prefix: str,
            timeout_s: float = SEND_TIMEOUT_S) -> None:
    """Send each suggestion under the key its registry entry builds; raises unless Kafka acknowledged all."""
    spec = INVENTORY_TRANSFER_SUGGESTIONS
    futures = [producer.send(spec.full_name(prefix), key=spec.key_for(s), value=encode(s)) for s in suggestions]
    producer.flush(timeout=timeout_s)
    for future in futures:
        future.get(timeout=timeout_s)


def table(suggestions: list[TransferSuggested]) -> str:
    """The suggestions for a person: one line each, the figures behind them."""
    head = ("sku", "from", "to", "units", "from on hand", "from /day", "from cover", "to on hand", "to /day",
            "to cover")
    rows = [head] + [(
        s.sku, s.from_node, s.to_node, str(s.quantity), str(s.from_on_hand), f"{s.from_daily_sales:.2f}",
        f"{_days(s.from_cover_days_before)} -> {_days(s.from_cover_days_after)}", str(s.to_on_hand),
        f"{s.to_daily_sales:.2f}", f"{_days(s.to_cover_days_before)} -> {_days(s.to_cover_days_after)}",
    ) for s in suggestions]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def _days(days: float) -> str:
    return "-" if days >= COVER_CAP_DAYS else f"{days:g}"


def summary(suggestions: list[TransferSuggested], inputs: Inputs, as_of: datetime, params: BalancingParams) -> str:
    nodes = {p.node for p in inputs.positions}
    units = sum(s.quantity for s in suggestions)
    where = f"{len(inputs.coordinates)} network nodes with distances" if inputs.coordinates else "stores by id"
    return (f"balancing as of {as_of.isoformat()}: {len(inputs.positions)} positions at {len(nodes)} nodes "
            f"({where}), {len(inputs.sales)} selling in the last {params.window_days} days; "
            f"{len(suggestions)} suggestions moving {units} units of {len({s.sku for s in suggestions})} SKUs")


def run_once(args: argparse.Namespace, params: BalancingParams, settings: Settings, as_of: datetime) -> int:
    """One run: 0 when done (published, printed, or nothing to suggest), 2 when it could not run."""
    if not args.db.exists():
        log.error("no DuckDB file at %s: run the sink (`python -m analytics.sink`) or pass --db", args.db)
        return 2
    with duckdb.connect(str(args.db), read_only=True) as con:
        frame = read_inputs(con, as_of, params.window_days)
    inputs = balanced(frame, None if args.no_network else network_nodes(settings, as_of))
    suggestions = propose(inputs.positions, inputs.sales, as_of, params, inputs.coordinates)
    log.info("%s", summary(suggestions, inputs, as_of, params))
    if args.dry_run:
        print(table(suggestions))
        return 0
    return _publish(suggestions, settings)


def _publish(suggestions: list[TransferSuggested], settings: Settings) -> int:
    topic = INVENTORY_TRANSFER_SUGGESTIONS.full_name(settings.topic_prefix)
    if not suggestions:
        return 0
    try:
        producer = KafkaProducer(**producer_config(settings))
        try:
            publish(producer, suggestions, settings.topic_prefix)
        finally:
            producer.close()
    except KafkaError as err:
        log.error("could not publish to %s at %s: %r. Check KAFKA_BOOTSTRAP, and that the topic exists "
                  "(`python -m streams.admin`)", topic, settings.bootstrap, err)
        return 2
    log.info("published %d suggestions to %s", len(suggestions), topic)
    return 0


def aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no offset: write e.g. 2025-03-20T06:00:00+01:00")
    return moment


def parse_args(argv: list[str] | None, settings: Settings) -> tuple[argparse.Namespace, BalancingParams]:
    parser = argparse.ArgumentParser(prog="python -m analytics.balancing", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="run once and exit (default: every --every-hours)")
    parser.add_argument("--db", type=Path, default=settings.analytics_path,
                        help="DuckDB file, opened read-only (default: %(default)s)")
    parser.add_argument("--as-of", type=aware, help="the moment to balance as of, with offset (default: now); "
                                                    "implies --once")
    parser.add_argument("--dry-run", action="store_true", help="print the suggestions as a table, publish nothing")
    parser.add_argument("--no-network", action="store_true",
                        help="do not read fulfilment.network-versions: stores by their id, no distances")
    parser.add_argument("--every-hours", type=float, default=24.0, help="hours between runs (default: %(default)s)")
    for f in fields(BalancingParams):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default,
                            help=f"{PARAM_HELP[f.name]} (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        return args, BalancingParams(**{f.name: getattr(args, f.name) for f in fields(BalancingParams)})
    except ValueError as err:
        parser.error(str(err))


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    args, params = parse_args(argv, settings)
    logs.setup(settings.log_format, settings.log_level)
    clock = Clock.from_settings(settings.clock_shift, settings.clock_file)
    try:
        while True:
            code = run_once(args, params, settings, args.as_of or clock.now())
            if args.once or args.as_of is not None:
                return code
            time.sleep(args.every_hours * 3600)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
