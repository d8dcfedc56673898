"""End-to-end pipeline throughput against a raw aiokafka floor: `python -m bench.pipeline [--quick] [--kafka-nodes 3]`.

Starts (or reuses) the local broker, or a local cluster of `--kafka-nodes` nodes, runs the floor,
then a private worker and sink, publishes a simulated day and times it until the worker applied
every movement and DuckDB holds every row. Human-readable lines first; the last stdout line is
one JSON object.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench import brokers, scrape
from bench.brokers import BenchBroker
from bench.cpu import CpuMeter, describe
from bench.diagnose import byte_lines, slow_commits
from bench.e2e import Watch, publish, wait_for_snapshot
from bench.floor import ACK_PROBES, run_floor
from bench.result import Measured, git_commit, result_line, run_cli, summary
from bench.stack import Stack
from bench.workload import SKUS, STORES, Workload, simulated_day
from streams.topics import INVENTORY_LEDGER

QUICK_EVENTS = 3_000
DEFAULT_EVENTS = 20_000
PHASES = (("start", "published", "publishing"), ("published", "worker done", "worker draining"),
          ("worker done", "sink done", "sink draining"), ("start", "sink done", "whole run"))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS:,} events instead of {DEFAULT_EVENTS:,}")
    parser.add_argument("--events", type=int, help="number of simulated source events (overrides --quick)")
    parser.add_argument("--seed", type=int, default=42, help="simulator seed")
    parser.add_argument("--stores", type=int, default=STORES, help="stores in the simulated network")
    parser.add_argument("--skus", type=int, default=SKUS, help="SKUs in the simulated catalogue")
    parser.add_argument("--keep", action="store_true", help="keep topics, temp dir and logs for a post-mortem")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    brokers.add_option(parser)
    return parser.parse_args(argv)


def measure(stack: Stack, workload: Workload, floor_per_s: float, broker: BenchBroker, progress: bool) -> Measured:
    worker, sink = stack.start()
    print(f"worker pid {worker.proc.pid if worker.proc else '?'} and sink ready; logs in {stack.root / 'logs'}")
    pids = {"worker": worker.proc.pid, "sink": sink.proc.pid, "bench": os.getpid()}  # type: ignore[union-attr]
    meter = CpuMeter(pids | broker.pids())
    expected = workload.expected
    t0 = time.monotonic()
    meter.mark("start", t0)
    ledger = INVENTORY_LEDGER.full_name(stack.prefix)
    watch = Watch((stack.worker_url, stack.sink_url), ledger, stack.settings, expected, [worker, sink], t0, progress,
                  meter)
    watch.start()
    publish(stack.settings, workload.records, progress)
    publish_s = time.monotonic() - t0
    meter.mark("published", time.monotonic())
    watch.join()
    state = watch.state
    if watch.error or state.worker_s is None or state.sink_s is None:
        raise RuntimeError(f"pipeline did not finish: {watch.error}\nworker log tail:\n{worker.tail()}\n"
                           f"sink log tail:\n{sink.tail()}")
    print(f"worker /metrics at (a): {state.applied:.0f} movements applied, {state.routed:.0f} source events routed")
    for start, end, label in PHASES:
        cores = meter.cores(start, end)
        if cores:
            print(f"cpu cores used, {label}: {describe(cores)}")
    worker_cpu = meter.used("worker", "start", "worker done")
    if worker_cpu:
        print(f"worker cpu {worker_cpu:.1f} s = {1000 * worker_cpu / expected.movements:.2f} ms per movement")
    check_snapshot(stack, workload)
    per_movement = explain(stack, worker.tail(100_000), expected.movements)
    lag_p50, lag_p99 = scrape.quantile(0.5, state.lag), scrape.quantile(0.99, state.lag)
    return Measured(
        events=expected.events, movements=expected.movements, publish_s=publish_s, worker_s=state.worker_s,
        sink_s=state.sink_s, floor_per_s=floor_per_s, lag_p50_s=lag_p50, lag_p99_s=lag_p99,
        worker_cpu_s=worker_cpu, changelog_bytes_per_movement=per_movement,
        cores=meter.cores("start", "worker done"),
    )


def check_snapshot(stack: Stack, workload: Workload) -> None:
    """Not timed: the analysts' snapshot must end up with the same rows the sink's metrics counted."""
    e = workload.expected
    got = wait_for_snapshot(str(stack.snapshot_path), e, timeout_s=3 * stack.settings.snapshot_interval_s + 10)
    want = (e.movements, e.sales_lines, e.return_lines)
    verdict = "matches" if got == want else f"DIFFERS: got {got}, want {want}"
    print(f"duckdb snapshot (stock movements, sales lines, return lines) {verdict}")


def explain(stack: Stack, worker_log: str, movements: int) -> float | None:
    """Print what the bytes and the commits say; returns stock-changelog bytes per movement."""
    commits = slow_commits(worker_log)
    print(f"worker commits slower than their {stack.settings.commit_interval_s:g} s interval: "
          f"{commits.overlapping}, longest {commits.longest_s:.1f} s")
    try:
        lines, per_movement = byte_lines(stack.topic_bytes(), stack.prefix, stack.env["OMNI_APP_ID"], movements)
    except Exception as exc:  # noqa: BLE001 (a diagnostic; the measurement stands without it)
        print(f"kafka bytes on disk: unavailable ({exc!r})")
        return None
    for text in lines:
        print(text)
    return per_movement


def run(args: argparse.Namespace) -> dict[str, object]:
    events = args.events or (QUICK_EVENTS if args.quick else DEFAULT_EVENTS)
    progress = not args.no_progress
    broker = brokers.start(args.kafka_nodes)
    print(broker.describe())
    workload = simulated_day(events, args.seed, args.stores, args.skus)
    e = workload.expected
    print(f"workload: {e.events} events ({args.stores} stores, {args.skus} SKUs, seed {args.seed}), "
          f"{workload.bytes / 1e6:.1f} MB, {e.movements} movements, {e.sales_lines} sales lines, "
          f"{e.return_lines} return lines")
    stack = Stack.create(broker.bootstrap)
    try:
        floor = run_floor(stack.settings, stack.prefix, [(k, v) for _, k, v in workload.records], progress,
                          ACK_PROBES)
        print(floor.describe())
        measured = measure(stack, workload, floor.per_s, broker, progress)
    finally:
        for problem in stack.close(keep=args.keep):
            print(f"clean-up: {problem}", file=sys.stderr)
        if args.keep:
            print(f"kept: topics with prefix {stack.prefix}, app id {stack.env['OMNI_APP_ID']}, files in {stack.root}")
        broker.release()
    line = result_line(measured, args.quick and not args.events, broker.kafka, os.cpu_count(), git_commit())
    line["network"] = f"{args.stores} stores, {args.skus} skus"
    line.update(broker.result_fields() | floor.ack_fields())
    for text in summary(line, measured):
        print(text)
    return line


def main(argv: list[str] | None = None) -> int:
    return run_cli(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
