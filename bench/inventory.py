"""Hold throughput, latency and scale of the stock authority: `python -m bench.inventory [--quick]`.

Starts (or reuses) the local broker, or a local cluster of `--kafka-nodes` nodes; on it, each
phase gets a private Omnistream (own topic prefix, app id, data dirs, ports): throughput with one
worker (after the raw aiokafka floor), then with two workers, latency at a fixed offered load
with one worker and, without --quick, a worker recovering ~2 million sku@node positions.
Human-readable lines first; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from bench import brokers
from bench.authority import load_stock, rss_mib, start_workers, trouble, worker_pid
from bench.cpu import CpuMeter
from bench.diagnose import slow_commits
from bench.floor import ACK_PROBES, FloorResult, run_floor
from bench.hold_costs import costs_us, describe
from bench.hold_result import Latency, Scale, Throughput, result_line, summary
from bench.hold_traffic import run_exchange
from bench.holds import Network, percentile, place_holds
from bench.recovery import SKUS, measure_recovery, node_names
from bench.result import git_commit, run_cli
from bench.stack import Stack
from ops.processes import Service
from settings import REPO_ROOT

QUICK_HOLDS, DEFAULT_HOLDS = 3_000, 20_000
QUICK_LATENCY_S, DEFAULT_LATENCY_S = 5.0, 20.0
OFFERED_PER_S = 1_000.0
LIGHT_PER_S, LIGHT_S = 100.0, 3.0
WARMUP_HOLDS = 200
FLOOR_MIN_RECORDS = 10_000  # fewer finish in ~0.1 s and the rate is noise


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.inventory", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_HOLDS:,} holds, {QUICK_LATENCY_S:g} s of latency, no scale phase")
    parser.add_argument("--holds", type=int, help="holds per throughput phase (overrides --quick)")
    parser.add_argument("--skus", type=int, default=Network.skus, help="SKUs holds spread over")
    parser.add_argument("--nodes", type=int, default=Network.nodes, help="stock nodes (stores, warehouses) holds "
                        "spread over; --kafka-nodes is the broker's")
    parser.add_argument("--rate", type=float, default=OFFERED_PER_S, help="offered holds/s in the latency phase")
    parser.add_argument("--keep", action="store_true", help="keep topics, temp dirs and logs for a post-mortem")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    brokers.add_option(parser)
    return parser.parse_args(argv)


def close(stack: Stack, keep: bool) -> None:
    for problem in stack.close(keep=keep):
        print(f"clean-up: {problem}", file=sys.stderr)
    if keep:
        print(f"kept: topics with prefix {stack.prefix}, app id {stack.env['OMNI_APP_ID']}, files in {stack.root}")


def ready(stack: Stack, workers: int, network: Network, progress: bool) -> tuple[list[Service], float]:
    """Workers started and owning every SKU, opening stock applied, the hold path warmed up."""
    services, start_s = start_workers(stack, workers)
    load_s = load_stock(stack, network, services, progress)
    print(f"{workers} worker(s) ready in {start_s:.1f} s, RSS {rss_mib(worker_pid(services[0])) or 0:.0f} MiB; "
          f"{network.positions} positions stocked in {load_s:.1f} s; logs in {stack.root / 'logs'}")
    warmup = place_holds(network, stack.run, 0, WARMUP_HOLDS)
    run_exchange(stack.settings, warmup, None, progress, "warm-up", lambda: trouble(services))
    return services, start_s


def changelog_bytes(stack: Stack, table: str = "stock") -> int | None:
    try:
        return stack.topic_bytes().get(f"{stack.settings.app_id}-{table}-changelog", 0)
    except Exception as exc:  # noqa: BLE001 (a diagnostic; the measurement stands without it)
        print(f"kafka bytes on disk: unavailable ({exc!r})")
        return None


def floor_phase(stack: Stack, network: Network, records: int, progress: bool) -> FloorResult:
    holds = [(c.key, c.value) for c in place_holds(network, f"{stack.run}f", 0, records)]
    floor = run_floor(stack.settings, stack.prefix, holds, progress, ACK_PROBES)
    print(floor.describe())
    return floor


def throughput(bootstrap: str, workers: int, network: Network, holds: int, floor_records: int, progress: bool,
               keep: bool, broker_pids: dict[str, int]) -> tuple[Throughput, FloorResult | None]:
    """N holds flat out through `workers` workers; with `floor_records`, the raw floor first."""
    stack = Stack.create(bootstrap)
    try:
        floor = floor_phase(stack, network, floor_records, progress) if floor_records else None
        services, start_s = ready(stack, workers, network, progress)
        commands = place_holds(network, stack.run, WARMUP_HOLDS, holds)
        pids = {s.name: worker_pid(s) for s in services} | {"bench": os.getpid()}
        meter = CpuMeter(pids | broker_pids)
        bytes_before = changelog_bytes(stack)
        meter.mark("start", time.monotonic())
        traffic = run_exchange(stack.settings, commands, None, progress, f"holds, {workers} worker(s)",
                               lambda: trouble(services))
        meter.mark("end", time.monotonic())
        bytes_after = changelog_bytes(stack)
        used = [meter.used(s.name, "start", "end") for s in services]
        commits = [slow_commits(s.tail(100_000)) for s in services]
        return Throughput(
            workers=workers, holds=holds, seconds=traffic.seconds or 0.0, answers=dict(traffic.answers),
            start_s=start_s, worker_cpu_s=None if None in used else sum(u or 0.0 for u in used),
            changelog_bytes=None if bytes_before is None or bytes_after is None else bytes_after - bytes_before,
            overlapping_commits=sum(c.overlapping for c in commits), longest_commit_s=max(c.longest_s for c in commits),
            rss_mib=rss_mib(worker_pid(services[0])), cores=meter.cores("start", "end"),
        ), floor
    finally:
        close(stack, keep)


def latency(bootstrap: str, network: Network, offered: float, seconds: float, progress: bool, keep: bool) -> Latency:
    """One worker: a light load first (the path's own latency), then `offered` holds/s for `seconds`."""
    stack = Stack.create(bootstrap)
    try:
        services, _ = ready(stack, 1, network, progress)
        watch = lambda: trouble(services)  # noqa: E731
        light = place_holds(network, stack.run, WARMUP_HOLDS, int(LIGHT_PER_S * LIGHT_S))
        light_s = run_exchange(stack.settings, light, LIGHT_PER_S, progress, f"{LIGHT_PER_S:g} holds/s", watch,
                               trace=True)
        heavy = place_holds(network, stack.run, WARMUP_HOLDS + len(light), int(offered * seconds))
        traffic = run_exchange(stack.settings, heavy, offered, progress, f"{offered:g} holds/s offered", watch)
        print(f"latency phase: sent {len(heavy)} holds in {traffic.sending_s:.1f} s "
              f"({len(heavy) / max(traffic.sending_s, 1e-9):.0f}/s actually offered)")
        lat, light_lat = traffic.latencies_s(), light_s.latencies_s()
        return Latency(
            offered_per_s=offered, holds=len(heavy), p50_s=percentile(lat, 50), p99_s=percentile(lat, 99),
            max_s=max(lat, default=None), answered_s=traffic.seconds or 0.0, light_per_s=LIGHT_PER_S,
            light_p50_s=percentile(light_lat, 50), light_p99_s=percentile(light_lat, 99),
            light_upstream_p50_s=percentile(light_s.until_answer_sent_s(), 50),
            light_routed_p50_s=percentile(light_s.until_routed_s(), 50),
        )
    finally:
        close(stack, keep)


def scale_phase(bootstrap: str, progress: bool, keep: bool) -> Scale:
    """Recovery of ~2 M positions; a failure is reported in the result rather than losing the other figures."""
    stack = Stack.create(bootstrap)
    try:
        return measure_recovery(stack, progress)
    except (RuntimeError, TimeoutError) as exc:
        print(f"scale phase failed: {exc}", file=sys.stderr)
        return Scale(skus=SKUS, nodes=len(node_names()), error=str(exc).splitlines()[0])
    finally:
        close(stack, keep)


def own_code(network: Network, holds: int) -> dict[str, object]:
    """Per-hold cost of Omnistream's own code at the first and the last SKU size of the throughput run."""
    first, last = costs_us(network, 1), costs_us(network, (WARMUP_HOLDS + holds) // network.skus)
    for label, costs in (("start", first), ("end", last)):
        print(f"own code per hold, SKU value at the {label} of the run: {describe(costs)}")
    return {"own_code_us_per_hold_start": first["total"], "own_code_us_per_hold_end": last["total"],
            "stock_value_kb_end": round(last["stock value bytes"] / 1000, 1)}


def worktree_changed() -> bool:
    """Whether the worker ran code that differs from `commit` (outside bench/, tests/, docs/)."""
    out = subprocess.run(["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    paths = [line[3:] for line in out.stdout.splitlines()]
    return any(not p.startswith(("bench/", "tests/", "docs/")) for p in paths)


def run(args: argparse.Namespace) -> dict[str, object]:
    holds = args.holds or (QUICK_HOLDS if args.quick else DEFAULT_HOLDS)
    network = Network(skus=args.skus, nodes=args.nodes)
    progress = not args.no_progress
    broker = brokers.start(args.kafka_nodes)
    print(f"{broker.describe()}; {holds} holds over {network.skus} SKUs x {network.nodes} nodes")
    t0 = time.monotonic()
    try:
        one, floor = throughput(broker.bootstrap, 1, network, holds, max(holds, FLOOR_MIN_RECORDS), progress,
                                args.keep, broker.pids())
        two, _ = throughput(broker.bootstrap, 2, network, holds, 0, progress, args.keep, broker.pids())
        lat = latency(broker.bootstrap, network, args.rate, QUICK_LATENCY_S if args.quick else DEFAULT_LATENCY_S,
                      progress, args.keep)
        scale = None if args.quick else scale_phase(broker.bootstrap, progress, args.keep)
    finally:
        broker.release()
    floor_per_s = floor.per_s if floor else 0.0
    line = result_line(one, two, lat, floor_per_s, scale, args.quick, broker.kafka, os.cpu_count(), git_commit())
    line.update(own_code(network, holds))
    line["worktree_changed"] = worktree_changed()
    line["network"] = f"{network.skus} skus x {network.nodes} nodes"
    line.update(broker.result_fields() | (floor.ack_fields() if floor else {}))
    for text in summary(one, two, lat, floor_per_s, scale):
        print(text)
    print(f"whole run {time.monotonic() - t0:.0f} s")
    return line


def main(argv: list[str] | None = None) -> int:
    return run_cli(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
