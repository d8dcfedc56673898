"""`python -m bench.fulfilment [--quick]`: how fast sourcing decides, phase by phase.

The pure phase times `domain.fulfilment.sourcing.decide` alone, single-threaded, on a fixed
synthetic Dutch network (bench.fulfilment_network): 100 nodes, 2,000 SKUs each stocked at
~60 % of the nodes, capacity free everywhere, 5-line orders shipped to addresses around the
stores under the `network` profile. Baseline, same inputs and run: the first node (in
network order) that has every line, the least any sourcing can do. The variants phase runs
the same orders under the warehouse-first profile, and as same-day orders.

Each phase returns a dict of figures; `main` merges them into the JSON object it prints as
the last stdout line (progress goes to stderr). The e2e phase runs orders through a real
broker and worker (bench/fulfilment_e2e.py): orders_per_s, accept and decide p50/p99.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from bench.authority import rss_mib, worker_pid
from bench.brokers import release
from bench.fulfilment_e2e import e2e
from bench.fulfilment_network import T0, Workload, first_fit, workload
from bench.holds import percentile
from bench.stack import Stack
from broker import ensure_broker
from domain.fulfilment.defaults import warehouse_first
from domain.fulfilment.sourcing import Request, decide

QUICK_DECISIONS = 2_000
FULL_DECISIONS = 20_000
QUICK_ORDERS, FULL_ORDERS = 1_000, 5_000  # e2e: sent flat out
QUICK_LATENCY_S, FULL_LATENCY_S = 10, 30  # e2e: seconds of paced orders
OFFERED_PER_S = 200.0
WARMUP = 200  # decisions before timing: a stream worker runs warm (compiled nodes, slot lists)

Phase = Callable[[argparse.Namespace, Workload], dict[str, object]]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pure(args: argparse.Namespace, work: Workload) -> dict[str, object]:
    """Decisions per second over every order; then every order again, each decision timed on its own."""
    warm, requests = work.requests[:WARMUP], work.requests[WARMUP:]
    for r in warm:
        decide(r, work.snapshot, work.network, work.profile)
    progress(f"pure: {len(requests)} decisions, {len(work.network.nodes)} nodes, {work.lines} lines each")
    decide_s, tally = _throughput(work, requests)
    took = _latencies(work, requests)
    result: dict[str, object] = {
        "decisions": len(requests),
        "decisions_per_s": round(len(requests) / decide_s, 1),
        "pure_decide_p50_ms": _ms(percentile(took, 50)),
        "pure_decide_p99_ms": _ms(percentile(took, 99)),
        "baseline_first_fit_per_s": round(len(requests) / _first_fit_s(work, requests), 1),
        "nodes": len(work.network.nodes),
        "skus": work.skus,
        "lines": work.lines,
        "profile": work.profile.profile_id,
    } | tally
    progress(f"pure: {result['decisions_per_s']:,} decisions/s, p50 {result['pure_decide_p50_ms']} ms, "
             f"p99 {result['pure_decide_p99_ms']} ms; first fit {result['baseline_first_fit_per_s']:,}/s; "
             f"{result['outcomes']}, shipments {result['shipments_per_plan']}")
    return result


def _throughput(work: Workload, requests: list[Request]) -> tuple[float, dict[str, object]]:
    """Seconds for every decision in a row, and what they decided, tallied as they come: keeping every
    decision alive would time the garbage collector too."""
    outcomes: Counter[str] = Counter()
    shipments: Counter[int] = Counter()
    scored = 0
    started = time.perf_counter()
    for r in requests:
        decision = decide(r, work.snapshot, work.network, work.profile)
        outcomes[decision.outcome] += 1
        shipments[len(decision.shipments)] += 1
        scored += decision.candidates_scored
    seconds = time.perf_counter() - started
    return seconds, {"outcomes": dict(sorted(outcomes.items())),
                     "shipments_per_plan": {str(k): v for k, v in sorted(shipments.items()) if k},
                     "candidates_scored_mean": round(scored / len(requests), 1)}


def _latencies(work: Workload, requests: list[Request]) -> list[float]:
    took = []
    for r in requests:
        started = time.perf_counter_ns()
        decide(r, work.snapshot, work.network, work.profile)
        took.append((time.perf_counter_ns() - started) / 1e6)
    return took


def _first_fit_s(work: Workload, requests: list[Request]) -> float:
    order = list(work.network.nodes)
    started = time.perf_counter()
    for r in requests:
        first_fit(r, work.snapshot, order)
    return time.perf_counter() - started


def variants(args: argparse.Namespace, work: Workload) -> dict[str, object]:
    """The same orders under the warehouse-first profile, and as same-day orders: what each costs."""
    requests = work.requests[WARMUP:]
    same_day = [replace(r, method="same_day", promise="same_day") for r in work.requests]
    figures: dict[str, object] = {}
    for name, varied, orders in (("warehouse_first", replace(work, profile=warehouse_first(T0)), requests),
                                 ("same_day", work, same_day[WARMUP:])):
        for r in (same_day if name == "same_day" else work.requests)[:WARMUP]:
            decide(r, varied.snapshot, varied.network, varied.profile)
        seconds, tally = _throughput(varied, orders)
        figures[f"{name}_decisions_per_s"] = round(len(orders) / seconds, 1)
        figures[f"{name}_outcomes"] = tally["outcomes"]
    progress(f"variants: {figures}")
    return {"variants": figures}


def end_to_end(args: argparse.Namespace, work: Workload) -> dict[str, object]:
    """Orders through a real broker and one worker (bench/fulfilment_e2e.py)."""
    broker = ensure_broker()
    stack = Stack.create(broker.bootstrap)
    stack.env["OMNI_CAPACITY_OPEN_INTERVAL_S"] = "1"
    try:
        worker, _ = stack.start()
        orders = args.orders or (QUICK_ORDERS if args.quick else FULL_ORDERS)
        paced = int(args.rate * (QUICK_LATENCY_S if args.quick else FULL_LATENCY_S))
        figures = e2e(stack, orders, paced, args.rate, progress=True)
        figures["worker_rss_mib"] = rss_mib(worker_pid(worker))
    finally:
        for problem in stack.close(keep=args.keep):
            progress(f"clean-up: {problem}")
        release(broker)
    progress(f"end to end: {figures['orders_per_s']} orders/s ({figures['e2e_outcomes']}), pinned baseline "
             f"{figures['baseline_pinned_orders_per_s']}/s; at {args.rate:g}/s accept p50 {figures['accept_p50_ms']} "
             f"ms p99 {figures['accept_p99_ms']} ms; decide p99 {figures['decide_p99_ms']} ms")
    return figures


PHASES: dict[str, Phase] = {"pure": pure, "variants": variants, "e2e": end_to_end}


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="python -m bench.fulfilment", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DECISIONS:,} decisions instead of "
                                                             f"{FULL_DECISIONS:,}")
    parser.add_argument("--decisions", type=int, default=None, help="override the number of decisions")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of: {', '.join(PHASES)}")
    parser.add_argument("--orders", type=int, default=None, help=f"e2e: orders sent flat out (default "
                                                                 f"{QUICK_ORDERS:,} quick, {FULL_ORDERS:,} full)")
    parser.add_argument("--rate", type=float, default=OFFERED_PER_S, help="e2e: orders/s offered in the latency part")
    parser.add_argument("--keep", action="store_true", help="e2e: keep topics, temp dirs and logs")
    args = parser.parse_args(argv)
    n = args.decisions or (QUICK_DECISIONS if args.quick else FULL_DECISIONS)
    work = workload(n + WARMUP)
    result: dict[str, object] = {"bench": "fulfilment", "quick": args.quick}
    for name in args.phases.split(","):
        result |= PHASES[name](args, work)
    print(json.dumps(result), flush=True)
    return result


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


if __name__ == "__main__":
    main()
