"""`python -m bench.pricing [--quick]`: how fast the pure pricing function prices baskets, phase by phase.

The pure phase times `domain.pricing.price.price` alone, single-threaded, on a fixed synthetic
book (bench.pricing_book): 5,000 SKUs over 50 categories, 200 active promotions of every kind
in four groups (one `best`, one exclusive), ~10 % behind coupons, some budgeted; 10-line
baskets at 20 stores. Baseline, same baskets and run: the sum of list prices (`book.price`
per line, no promotions), the least any pricing can do.

Each phase returns a dict of figures; `main` merges them into the JSON object it prints as
the last stdout line (progress goes to stderr). Later phases (a worker pricing orders through
the broker, tills offline) add their own entries to PHASES.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

from bench.holds import percentile
from bench.pricing_book import PROMOTIONS, Workload, workload
from domain.pricing.price import price
from domain.pricing.unit_prices import price_lists

QUICK_BASKETS = 10_000
FULL_BASKETS = 60_000
WARMUP = 500  # baskets before timing: a till runs warm (the book view's index, the price memo)

Phase = Callable[[argparse.Namespace, Workload], dict[str, object]]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pure(args: argparse.Namespace, work: Workload) -> dict[str, object]:
    """Baskets per second over every basket; then each basket again, timed on its own; then the baseline."""
    warm, baskets = work.baskets[:WARMUP], work.baskets[WARMUP:]
    for basket, context in warm:
        price(basket, context, work.book)
    progress(f"pure: {len(baskets)} baskets of {work.lines} lines, {PROMOTIONS} promotions")
    seconds, cpu_seconds, tally = _throughput(work, baskets)
    took, cpu = _latencies(work, baskets)
    result: dict[str, object] = {
        "baskets": len(baskets),
        "baskets_per_s": round(len(baskets) / seconds, 1),
        "baskets_per_cpu_s": round(len(baskets) / cpu_seconds, 1),
        "price_us_p50": _us(percentile(took, 50)),
        "price_us_p99": _us(percentile(took, 99)),
        "price_cpu_us_p50": _us(percentile(cpu, 50)),
        "price_cpu_us_p99": _us(percentile(cpu, 99)),
        "promotions_active": PROMOTIONS,
        "lines_per_basket": work.lines,
        "baseline": {"name": "sum_of_list_prices",
                     "baskets_per_s": round(len(baskets) / _list_prices_s(work, baskets), 1)},
    } | tally
    progress(f"pure: {result['baskets_per_s']:,} baskets/s, p50 {result['price_us_p50']} us, "
             f"p99 {result['price_us_p99']} us (CPU p99 {result['price_cpu_us_p99']} us); "
             f"list prices only {result['baseline']}")
    return result


def _throughput(work: Workload,
                baskets: list[tuple]) -> tuple[float, float, dict[str, object]]:  # type: ignore[type-arg]
    """Seconds (wall, and this thread's CPU) for every basket in a row, and what pricing did, tallied as
    it comes (keeping every answer alive would time the garbage collector too)."""
    applied = rejected = discount = subtotal = 0
    started, used = time.perf_counter(), time.thread_time()
    for basket, context in baskets:
        priced = price(basket, context, work.book)
        applied += len(priced.applied)
        rejected += len(priced.rejected)
        discount += priced.discount_cents
        subtotal += priced.subtotal_cents
    seconds, cpu_seconds = time.perf_counter() - started, time.thread_time() - used
    n = len(baskets)
    return seconds, cpu_seconds, {
        "applied_per_basket": round(applied / n, 2), "rejected_per_basket": round(rejected / n, 2),
        "discount_share": round(discount / max(subtotal, 1), 4)}


def _latencies(work: Workload, baskets: list[tuple]) -> tuple[list[float], list[float]]:  # type: ignore[type-arg]
    """Each basket's wall time and this thread's CPU time, in µs. On a shared machine the wall tail is
    mostly time the scheduler gave other processes: the CPU time shows what pricing itself costs."""
    took, cpu = [], []
    for basket, context in baskets:
        started, used = time.perf_counter_ns(), time.thread_time_ns()
        price(basket, context, work.book)
        cpu.append((time.thread_time_ns() - used) / 1e3)
        took.append((time.perf_counter_ns() - started) / 1e3)
    return took, cpu


def _list_prices_s(work: Workload, baskets: list[tuple]) -> float:  # type: ignore[type-arg]
    book = work.book
    started = time.perf_counter()
    for basket, context in baskets:
        lists = price_lists(context)
        total = 0
        for line in basket.lines:
            found = book.price(line.sku, lists, context.at)
            if found is not None:
                total += found[0] * line.quantity
    return time.perf_counter() - started


def _http(args: argparse.Namespace, work: Workload) -> dict[str, object]:
    from bench.pricing_http import http  # starts a broker and a worker: only when asked for

    return http(args, work)


PHASES: dict[str, Phase] = {"pure": pure, "http": _http}


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="python -m bench.pricing", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_BASKETS:,} baskets instead of {FULL_BASKETS:,}")
    parser.add_argument("--baskets", type=int, default=None, help="override the number of baskets timed")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of: {', '.join(PHASES)}")
    parser.add_argument("--rate", type=float, default=500.0, help="baskets/s offered over HTTP (phase http)")
    args = parser.parse_args(argv)
    n = args.baskets or (QUICK_BASKETS if args.quick else FULL_BASKETS)
    work = workload(n + WARMUP)
    result: dict[str, object] = {"bench": "pricing", "quick": args.quick}
    for name in args.phases.split(","):
        result |= PHASES[name](args, work)
    print(json.dumps(result), flush=True)
    return result


def _us(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


if __name__ == "__main__":
    main()
