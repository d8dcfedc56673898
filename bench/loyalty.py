"""Ledger throughput, redemption-hold latency and scale of the wallets: `python -m bench.loyalty [--quick]`.

Starts (or reuses) the local broker; on it, each phase gets a private Omnistream (own topic
prefix, app id, data dirs, ports): the raw aiokafka floor, then EarnPoints flat out to one
worker (ledger entries/s); holds at a fixed offered load to one worker over HTTP
(`POST /wallets/{customer_id}/holds/`) and over the topics (HoldPoints on loyalty.commands,
PointsAnswered on loyalty.answers); without --quick, a million wallets (their changelog
written directly, or made by earns through a worker) and a worker recovering them on an empty
disk. Human-readable lines first; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.authority import base_url, rss_mib, start_workers, trouble, worker_pid
from bench.brokers import release
from bench.diagnose import slow_commits
from bench.e2e import publish
from bench.floor import run_floor
from bench.hold_traffic import Route, Traffic, run_exchange
from bench.holds import percentile
from bench.inventory import changelog_bytes, close, worktree_changed
from bench.loyalty_costs import costs_us, describe
from bench.loyalty_http import run_posts
from bench.loyalty_ledger import Offsets, answers, entries_in, ledger
from bench.loyalty_result import Earning, HoldRun, WalletScale, hold_run, result_line, summary
from bench.loyalty_scale import CUSTOMERS, VIAS, measure_wallet_recovery
from bench.loyalty_sched import SchedMeter
from bench.loyalty_visible import Visible
from bench.loyalty_visible import measure as measure_visible
from bench.loyalty_workload import earns, holds, http_holds
from bench.result import git_commit, run_cli
from bench.stack import Stack
from broker import broker_status, ensure_broker
from broker.config import read_kafka_version
from ops.processes import Service
from streams.topics import LOYALTY_ANSWERS, LOYALTY_COMMANDS

QUICK_EARNS, DEFAULT_EARNS = 3_000, 20_000
QUICK_LATENCY_S, DEFAULT_LATENCY_S = 5.0, 20.0
OFFERED_PER_S = 500.0
LIGHT_PER_S, LIGHT_S = 50.0, 4.0
WARMUP = 200
FLOOR_MIN_RECORDS = 10_000  # fewer finish in ~0.1 s and the rate is noise
EARN_POINTS = 100
VISIBLE_PER_S, QUICK_VISIBLE_S, VISIBLE_S = 20.0, 5.0, 15.0  # till sales to wallet, on an idle worker
POOL_CUSTOMERS, POOL_POINTS = 5_000, 1_000_000  # the latency phase's wallets: holds of one point never run out
APPLY_TIMEOUT_S = 600.0
WALLETS = Route(requests=LOYALTY_COMMANDS, answers=LOYALTY_ANSWERS, verdict="status")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.loyalty", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_EARNS:,} earns, {QUICK_LATENCY_S:g} s of holds per path, no scale phase")
    parser.add_argument("--earns", type=int, help="earns in the throughput phase (overrides --quick)")
    parser.add_argument("--customers", type=int,
                        help="customers the throughput phase's earns spread over (default: one earn each)")
    parser.add_argument("--rate", type=float, default=OFFERED_PER_S, help="offered holds/s in the latency phase")
    parser.add_argument("--seconds", type=float, help="seconds of holds per path at --rate (overrides --quick)")
    parser.add_argument("--scale-customers", type=int, default=CUSTOMERS,
                        help="wallets the scale phase makes and recovers (not with --quick)")
    parser.add_argument("--scale-via", choices=VIAS, default=VIAS[0],
                        help="make the wallets by writing their changelog directly (fast) or by earns through a worker")
    parser.add_argument("--keep", action="store_true", help="keep topics, temp dirs and logs for a post-mortem")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    args = parser.parse_args(argv)
    args.earns = args.earns or (QUICK_EARNS if args.quick else DEFAULT_EARNS)
    args.customers = args.customers or args.earns
    args.seconds = args.seconds or (QUICK_LATENCY_S if args.quick else DEFAULT_LATENCY_S)
    for name in ("earns", "customers", "rate", "seconds", "scale_customers"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def loyalty_stack(bootstrap: str) -> Stack:
    """A private Omnistream whose workers accept the bench client (bench.stack.bench_client_env)."""
    return Stack.create(bootstrap)


def apply_earns(stack: Stack, offsets: Offsets, records: list[tuple[bytes, bytes]], services: list[Service],
                progress: bool, label: str) -> tuple[float, float]:
    """Publish earns (one posting each) and wait until the worker posted them all; (publish_s, seconds)."""
    base = offsets.total()
    t0 = time.monotonic()
    publish(stack.settings, [(LOYALTY_COMMANDS, key, value) for key, value in records], progress)
    publish_s = time.monotonic() - t0
    done = offsets.wait_for(base + len(records), APPLY_TIMEOUT_S, lambda: trouble(services), progress, label, base)
    return publish_s, done - t0


def floor_phase(stack: Stack, records: int, customers: int, progress: bool) -> float:
    wire = [(c.key, c.value) for c in earns(f"{stack.run}f", 0, records, customers, EARN_POINTS)]
    floor = run_floor(stack.settings, stack.prefix, wire, progress)
    print(f"floor: {floor.records} records in {floor.seconds:.2f} s = {floor.per_s:.0f}/s")
    return floor.per_s


def processes(worker: Service, broker_pid: int | None) -> dict[str, int]:
    """The processes whose CPU a phase reports: the worker, this one, and the broker when it is known."""
    return {"worker": worker_pid(worker), "bench": os.getpid()} | ({"broker": broker_pid} if broker_pid else {})


def earning(bootstrap: str, count: int, customers: int, progress: bool, keep: bool,
            broker_pid: int | None, visible_s: float) -> tuple[Earning, float, Visible]:
    """The floor, then `count` earns flat out through one worker, timed until the last posting; then, on the
    idle worker, till sales at a fixed rate timed from publish until their wallet posted them."""
    stack = loyalty_stack(bootstrap)
    try:
        floor_per_s = floor_phase(stack, max(count, FLOOR_MIN_RECORDS), customers, progress)
        services, start_s = start_workers(stack, 1)
        worker = services[0]
        print(f"worker ready in {start_s:.1f} s, RSS {rss_mib(worker_pid(worker)) or 0:.0f} MiB; "
              f"logs in {stack.root / 'logs'}")
        offsets = ledger(stack.settings)
        try:
            warmup = [(c.key, c.value) for c in earns(f"{stack.run}w", 0, WARMUP, WARMUP, EARN_POINTS)]
            apply_earns(stack, offsets, warmup, services, False, "warm-up")
            commands = [(c.key, c.value) for c in earns(stack.run, 0, count, customers, EARN_POINTS)]
            meter = SchedMeter(processes(worker, broker_pid))
            before, bytes_before = offsets.ends(), changelog_bytes(stack, "wallets")
            meter.mark("start", time.monotonic())
            publish_s, seconds = apply_earns(stack, offsets, commands, services, progress, "earns, 1 worker")
            meter.mark("end", time.monotonic())
            bytes_after = changelog_bytes(stack, "wallets")
            entries = entries_in(offsets.records(before, offsets.ends()))
        finally:
            offsets.close()
        visible = measure_visible(stack.settings, stack.run, VISIBLE_PER_S, visible_s, progress)
        commits = slow_commits(worker.tail(100_000))
        return Earning(
            earns=count, customers=customers, entries=entries, seconds=seconds, publish_s=publish_s, start_s=start_s,
            worker_cpu_s=meter.used("worker", "start", "end"), cores=meter.cores("start", "end"),
            overlapping_commits=commits.overlapping, longest_commit_s=commits.longest_s,
            rss_mib=rss_mib(worker_pid(worker)), worker_waiting_share=meter.waiting_share("worker", "start", "end"),
            changelog_bytes=None if bytes_before is None or bytes_after is None else bytes_after - bytes_before,
        ), floor_per_s, visible
    finally:
        close(stack, keep)


def timed(meter: SchedMeter, label: str, run: Callable[[], Traffic]) -> tuple[Traffic, dict[str, Any]]:
    """Run one exchange between two marks: its traffic, and the worker's CPU seconds, cores and run-queue wait."""
    start, end = f"{label} start", f"{label} end"
    meter.mark(start, time.monotonic())
    traffic = run()
    meter.mark(end, time.monotonic())
    return traffic, {"worker_cpu_s": meter.used("worker", start, end), "cores": meter.cores(start, end),
                     "worker_waiting_share": meter.waiting_share("worker", start, end)}


def latency(bootstrap: str, offered: float, seconds: float, progress: bool, keep: bool,
            broker_pid: int | None) -> tuple[HoldRun, HoldRun, HoldRun]:
    """One worker, wallets with points: holds over HTTP at a light load, then at `offered`/s over HTTP and
    over the topics. Returns (light HTTP, HTTP, topic)."""
    stack = loyalty_stack(bootstrap)
    try:
        services, _ = start_workers(stack, 1)
        worker, watch = services[0], lambda: trouble(services)
        offsets = ledger(stack.settings)
        try:
            pool = [(c.key, c.value) for c in earns(stack.run, 0, POOL_CUSTOMERS, POOL_CUSTOMERS, POOL_POINTS)]
            _, pool_s = apply_earns(stack, offsets, pool, services, progress, "wallets to hold from")
        finally:
            offsets.close()
        print(f"worker ready; {POOL_CUSTOMERS} wallets with {POOL_POINTS:,} points each in {pool_s:.1f} s")
        url, headers = base_url(worker), stack.settings.http_headers()
        meter = SchedMeter(processes(worker, broker_pid))
        n, heavy = WARMUP, int(offered * seconds)
        run_posts(url, http_holds(stack.run, 0, WARMUP, POOL_CUSTOMERS), LIGHT_PER_S, headers, False, "warm-up", watch)
        light_n = int(LIGHT_PER_S * LIGHT_S)
        light, light_cpu = timed(meter, "light", lambda: run_posts(
            url, http_holds(stack.run, n, light_n, POOL_CUSTOMERS), LIGHT_PER_S, headers, progress,
            f"HTTP {LIGHT_PER_S:g} holds/s", watch))
        n += light_n
        http, http_cpu = timed(meter, "http", lambda: run_posts(
            url, http_holds(stack.run, n, heavy, POOL_CUSTOMERS), offered, headers, progress,
            f"HTTP {offered:g} holds/s offered", watch))
        n += heavy
        drained = answers(stack.settings)
        try:  # a hold the view gave up on (504) is still applied: none may queue ahead of the topic path's
            drained.wait_for(n, APPLY_TIMEOUT_S, watch, False, "HTTP holds applied")
        finally:
            drained.close()
        topic, topic_cpu = timed(meter, "topic", lambda: run_exchange(
            stack.settings, holds(stack.run, n, heavy, POOL_CUSTOMERS), offered, progress,
            f"topic {offered:g} holds/s offered", watch, route=WALLETS))
        return (hold_run("http", LIGHT_PER_S, light, **light_cpu), hold_run("http", offered, http, **http_cpu),
                hold_run("topic", offered, topic, **topic_cpu))
    finally:
        close(stack, keep)


def scale_phase(bootstrap: str, customers: int, via: str, progress: bool, keep: bool) -> WalletScale:
    """A million wallets and their recovery; a failure is reported in the result rather than losing the rest."""
    stack = loyalty_stack(bootstrap)
    try:
        return measure_wallet_recovery(stack, progress, customers, via)
    except (RuntimeError, TimeoutError, ValueError) as exc:
        print(f"scale phase failed: {exc}", file=sys.stderr)
        return WalletScale(customers=customers, via=via, error=str(exc).splitlines()[0])
    finally:
        close(stack, keep)


def own_code(earns_per_customer: int) -> dict[str, object]:
    """Per-command cost of Omnistream's own code on a wallet as the throughput run leaves it."""
    costs = costs_us(earns_per_customer)
    for kind, c in costs.items():
        print(f"own code per {describe(kind, c)} ({earns_per_customer} lot(s) in the wallet)")
    return {"own_code_us_per_earn": costs["earn"]["total"], "own_code_us_per_hold": costs["hold"]["total"]}


def visible_figures(visible: Visible) -> dict[str, object]:
    """Till sale to wallet: p50/p99 of the sales whose posting came back (all of them, or say how many)."""
    p50, p99 = percentile(visible.latencies_ms, 50), percentile(visible.latencies_ms, 99)
    return {
        "earn_visible_p50_ms": None if p50 is None else round(p50, 1),
        "earn_visible_p99_ms": None if p99 is None else round(p99, 1),
        "earn_visible_offered_per_s": visible.offered_per_s,
        "earn_visible_seen": f"{visible.seen}/{visible.sales}",
    }


def run(args: argparse.Namespace) -> dict[str, object]:
    progress = not args.no_progress
    broker = ensure_broker()
    kafka = "external" if os.environ.get("KAFKA_BOOTSTRAP") and not broker.pid else read_kafka_version()
    print(f"broker {broker.bootstrap} (Kafka {kafka}, {'started' if broker.started_here else 'reused'}); "
          f"{args.earns} earns over {args.customers} customers, holds at {args.rate:g}/s for {args.seconds:g} s")
    t0 = time.monotonic()
    try:
        broker_pid = broker.pid or broker_status().pid
        earned, floor_per_s, visible = earning(broker.bootstrap, args.earns, args.customers, progress, args.keep,
                                               broker_pid, QUICK_VISIBLE_S if args.quick else VISIBLE_S)
        light, http, topic = latency(broker.bootstrap, args.rate, args.seconds, progress, args.keep, broker_pid)
        scale = None if args.quick else scale_phase(broker.bootstrap, args.scale_customers, args.scale_via, progress,
                                                    args.keep)
    finally:
        release(broker)
    line = result_line(earned, http, topic, light, floor_per_s, scale, args.quick, kafka, os.cpu_count(),
                       git_commit())
    line.update(own_code(-(-args.earns // args.customers)))
    line.update(visible_figures(visible))
    line["worktree_changed"] = worktree_changed()
    for text in summary(earned, [light, http, topic], floor_per_s, scale):
        print(text)
    print(f"till sale to wallet: {line['earn_visible_p50_ms']} / {line['earn_visible_p99_ms']} ms p50/p99 at "
          f"{visible.offered_per_s:g} sales/s ({visible.seen} of {visible.sales} seen)")
    print(f"whole run {time.monotonic() - t0:.0f} s")
    return line


def main(argv: list[str] | None = None) -> int:
    return run_cli(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
