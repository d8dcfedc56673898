"""`python -m analytics.backtest [--quick] [--days 30] [--seed 42] [--json]`: the network against warehouse-first.

Replays one simulated month of online orders (the simulator's chain: its stores, warehouses,
catalogue and customers) under the `warehouse-first` and the `network` sourcing profiles, each
on its own copy of the world (stock and capacity as they stood at each order), and prints
the side-by-side figures, the change in cost per order and the sensitivity of that change to
store handling cost and the same-day radius. The same arguments always print the same report;
the time taken and decisions per second go to stderr. `--json`: one JSON object, last line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from tqdm import tqdm

from analytics.backtest_report import Report, as_json, render
from domain.fulfilment.backtest.figures import Run, compare, summarise
from domain.fulfilment.backtest.month import MonthShape, month_of_orders
from domain.fulfilment.backtest.replay import replay
from domain.fulfilment.backtest.scenario import Scenario, StockShape, scenario
from domain.fulfilment.backtest.sensitivity import Variant, network_with, reference_parcel, sensitivity, variants
from domain.fulfilment.defaults import default_costs, network_profile, warehouse_first
from domain.fulfilment.network import Network, NetworkLog
from domain.fulfilment.sourcing import decide
from sim.config import SimConfig
from sim.fulfilment import node_definitions
from sim.network import build_network
from streams.fulfilment import NetworkEvent, ProfileDefined

PROFILES = ("warehouse-first", "network")
QUICK_DAYS, QUICK_ORDERS_PER_DAY = 7, 300


@dataclass(frozen=True)
class Setup:
    """Everything a backtest is built from: the simulator's chain, the month's size and the seed."""

    seed: int = 42
    days: int = 30
    orders_per_day: int = 1_000
    stores: int = 100
    warehouses: int = 2
    skus: int = 500
    customers: int = 5_000

    @property
    def start(self) -> datetime:
        return SimConfig().start


@dataclass(frozen=True)
class World:
    scenario: Scenario
    network: Network
    profiles: dict[str, ProfileDefined]


@lru_cache(maxsize=2)
def world_of(setup: Setup) -> World:
    config = SimConfig(seed=setup.seed, stores=setup.stores, warehouses=setup.warehouses, skus=setup.skus,
                       customers=setup.customers)
    chain = build_network(config, random.Random(f"{setup.seed}:network"))
    since = config.start.replace(year=2020)  # as ops.network publishes it: long effective
    nodes = node_definitions(chain, since)
    log = NetworkLog()
    events: list[NetworkEvent] = [default_costs(since), warehouse_first(since), network_profile(since), *nodes]
    for event in events:
        log.add(event)
    shape = MonthShape(days=setup.days, orders_per_day=setup.orders_per_day)
    orders = month_of_orders(chain.customers, chain.catalogue, shape, setup.start, setup.seed)
    month = scenario(orders, nodes, chain.catalogue, shape, StockShape(), setup.start, setup.seed)
    profiles = {p: log.profile(p, setup.start) for p in PROFILES}
    return World(month, log.as_of(setup.start), {p: v for p, v in profiles.items() if v is not None})


def run_one(setup: Setup, variant: Variant, profile_id: str,
            progress: Callable[[int], None] | None = None) -> tuple[Run, float]:
    """One profile's replay under one variant, summed up, and the seconds the replay took."""
    world = world_of(setup)
    network = network_with(world.network, variant)
    started = time.perf_counter()
    replayed = replay(world.scenario, network, world.profiles[profile_id], decide, progress or _count)
    took = time.perf_counter() - started
    per_hour = network.costs.pick_units_per_hour.get("store", 1) if network.costs else 1
    return summarise(replayed, per_hour), took


def backtest(setup: Setup, jobs: int = 1, bar: tqdm | None = None) -> tuple[Report, dict[str, float]]:
    """The report, and each profile's decisions per second under the published costs."""
    world = world_of(setup)
    costs = world.network.costs
    assert costs is not None
    parcel = reference_parcel(world.scenario.orders, world.scenario.nodes)
    chosen = variants(costs, parcel)
    if bar is not None:
        bar.total = len(world.scenario.orders) * len(PROFILES) * len(chosen)
    runs = _runs(setup, list(chosen), jobs, bar)
    rows = [sensitivity(costs, parcel, v, compare(runs[(v, PROFILES[0])][0], runs[(v, PROFILES[1])][0]))
            for v in chosen]
    published = next(v for v in chosen if v.store_handling == 1.0 and v.radius_km == costs.same_day_radius_km)
    baseline, network = runs[(published, PROFILES[0])][0], runs[(published, PROFILES[1])][0]
    speed = {p: round(len(world.scenario.orders) / runs[(published, p)][1], 1) for p in PROFILES}
    return Report(setup_of(setup), compare(baseline, network), parcel, tuple(rows)), speed


def setup_of(setup: Setup) -> dict[str, Any]:
    world = world_of(setup)
    return {**setup.__dict__, "start": setup.start.date().isoformat(), "orders": len(world.scenario.orders),
            "walk_ins": len(world.scenario.walk_ins)}


def _runs(setup: Setup, chosen: list[Variant], jobs: int,
          bar: tqdm | None) -> dict[tuple[Variant, str], tuple[Run, float]]:
    tasks = [(v, p) for v in chosen for p in PROFILES]
    if jobs <= 1:
        tick = bar.update if bar is not None else None
        return {(v, p): run_one(setup, v, p, tick) for v, p in tasks}
    done = multiprocessing.Value("q", 0)
    before = bar.n if bar is not None else 0
    with ProcessPoolExecutor(max_workers=jobs, initializer=_share_counter, initargs=(done,)) as pool:
        futures: dict[tuple[Variant, str], Future[tuple[Run, float]]] = {
            task: pool.submit(run_one, setup, *task) for task in tasks}
        pending = set(futures.values())
        while pending:
            _, pending = wait(pending, timeout=0.5)
            if bar is not None:
                bar.update(before + done.value - bar.n)
    return {task: future.result() for task, future in futures.items()}


_counter: Any = None


def _share_counter(counter: Any) -> None:
    global _counter
    _counter = counter


def _count(n: int) -> None:
    if _counter is not None:
        with _counter.get_lock():
            _counter.value += n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.backtest", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_DAYS} days of {QUICK_ORDERS_PER_DAY} orders instead of a month of 1,000")
    parser.add_argument("--days", type=int, default=None, help="days in the month (30; --quick: 7)")
    parser.add_argument("--orders-per-day", type=int, default=None, help="orders on an average day (1,000)")
    parser.add_argument("--seed", type=int, default=42, help="the simulator's seed: same seed, same report")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="replays run in parallel")
    parser.add_argument("--json", action="store_true", help="also print the report as one JSON object, last line")
    args = parser.parse_args(argv)
    setup = Setup(seed=args.seed, days=args.days or (QUICK_DAYS if args.quick else 30),
                  orders_per_day=args.orders_per_day or (QUICK_ORDERS_PER_DAY if args.quick else 1_000))
    started = time.perf_counter()
    with tqdm(desc="replaying", unit=" orders", file=sys.stderr, disable=None) as bar:
        report, speed = backtest(setup, args.jobs, bar)
    sys.stdout.write(render(report))
    if args.json:
        sys.stdout.write(json.dumps(as_json(report), sort_keys=True) + "\n")
    print(f"took {time.perf_counter() - started:.1f} s with {args.jobs} job(s); decisions per second: "
          + ", ".join(f"{p} {v:,.0f}" for p, v in speed.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
