"""DuckDB sink throughput and projection lag against its stages alone: `python -m bench.analytics [--quick]`.

Starts (or reuses) the local broker, pre-fills private topics with simulated events, measures
the sink's stages one by one (raw consume, decode, frames, insert), then the real sink draining
the topics, then the lag from send to visible in the analysts' snapshot at a fixed rate.
Human-readable lines first; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from kafka.record.util import crc32c_c

from bench import scrape
from bench.analytics_lag import Publisher, SnapshotReader, watch
from bench.analytics_load import SinkDay, prefill, sink_day
from bench.analytics_result import Baselines, Lag, Throughput, result_line, summary
from bench.analytics_stages import decode_rows, frames, insert, raw_consume, raw_consume_aiokafka
from bench.brokers import release
from bench.cpu import CpuMeter
from bench.result import git_commit, run_cli
from bench.stack import READY_TIMEOUT_S, Stack
from broker import broker_status, ensure_broker
from broker.config import read_kafka_version
from ops import processes
from ops.processes import Service, get_json
from settings import Settings
from streams.admin import ensure_topics

QUICK = {"events": 20_000, "rate": 2_000.0, "duration_s": 15.0}
FULL = {"events": 200_000, "rate": 2_000.0, "duration_s": 60.0}
ROWS = "omnistream_sink_rows_inserted_total"
POLL_S = 0.2
HEALTH_POLL_S = 0.02
STALL_TIMEOUT_S = 120.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 records, 15 s of lag (else 200,000, 60 s)")
    parser.add_argument("--events", type=int, help="records to pre-fill (overrides --quick)")
    parser.add_argument("--rate", type=float, help="events per second in the lag phase")
    parser.add_argument("--duration", type=float, help="seconds of publishing in the lag phase")
    parser.add_argument("--snapshot-interval", type=float,
                        help="OMNI_SNAPSHOT_INTERVAL_S for the sink (default: the environment's, else settings')")
    parser.add_argument("--seed", type=int, default=42, help="simulator seed")
    parser.add_argument("--ledger", action="store_true",
                        help="add the stock ledger the worker makes of the day (an internal topic, read in columns)")
    parser.add_argument("--profile", metavar="FILE", help="py-spy the sink while it drains; collapsed stacks to FILE")
    parser.add_argument("--keep", action="store_true", help="keep topics, temp dir and logs for a post-mortem")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    return parser.parse_args(argv)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def baselines(stack: Stack, day: SinkDay) -> tuple[Baselines, int]:
    """Each stage alone on the pre-filled records; also the rows the sink must end with."""
    settings = stack.settings
    consume = raw_consume(settings, len(day.records))
    say(f"raw consume: {len(day.records):,} records in {consume.wall_s:.2f} s ({consume.cpu_s:.2f} s CPU)")
    consume_aio = raw_consume_aiokafka(settings, len(day.records))
    say(f"raw consume, aiokafka: {consume_aio.wall_s:.2f} s ({consume_aio.cpu_s:.2f} s CPU)")
    batches, decoded = decode_rows(day.records, settings)
    rows = sum(b.row_count for b in batches)
    say(f"decode + rows (per record or columnar): {rows:,} rows in {decoded.wall_s:.2f} s ({decoded.cpu_s:.2f} s CPU)")
    built, framed = frames(batches)
    say(f"frames: {framed.wall_s:.2f} s ({framed.cpu_s:.2f} s CPU)")
    inserted, written, snapshot = insert(batches, built, stack.root / "insert-only")
    shutil.rmtree(stack.root / "insert-only", ignore_errors=True)
    say(f"insert-only: {inserted:,} rows in {written.wall_s:.2f} s ({written.cpu_s:.2f} s CPU); "
        f"one snapshot {snapshot.wall_s:.2f} s")
    if inserted != rows:
        raise RuntimeError(f"insert-only wrote {inserted} rows of {rows}: duplicate keys in the workload?")
    return Baselines(len(day.records), rows, consume, decoded, framed, written, snapshot, consume_aio), rows


def drain(sink: Service, stack: Stack, records: int, rows: int, meter: CpuMeter, profile: str | None) -> Throughput:
    """Start the sink on the filled topics; time /health answering -> every row counted on /metrics."""
    spawned = time.monotonic()
    sink.start()
    profiler = start_profile(sink.proc.pid, profile) if profile else None  # type: ignore[union-attr]
    meter.pids["sink"] = sink.proc.pid  # type: ignore[union-attr]
    healthy = wait_answering(sink)
    meter.mark("drain start", healthy)
    say(f"sink pid {sink.proc.pid} healthy after {healthy - spawned:.2f} s")  # type: ignore[union-attr]
    done, last, last_change = 0.0, -1.0, time.monotonic()
    while done < rows:
        time.sleep(POLL_S)
        samples = scrape.fetch(f"{stack.sink_url}/metrics")
        done = scrape.total(samples, ROWS) if samples else done
        if done != last:
            last, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > STALL_TIMEOUT_S or not sink.alive:
            raise RuntimeError(f"sink stalled at {done:.0f} of {rows} rows:\n{sink.tail()}")
    finished = time.monotonic()
    meter.mark("drain done", finished)
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(30)
    say(f"sink drained {records:,} records, {rows:,} rows in {finished - healthy:.2f} s")
    return Throughput(records, rows, healthy - spawned, finished - healthy, meter.used("sink", "drain start",
                                                                                       "drain done"))


def wait_answering(sink: Service) -> float:
    """When /health first answered, to 20 ms: the sink starts reading right after, so the clock must
    start then (Service.wait_healthy looks every 0.5 s, which credited small runs with work done unseen)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if not sink.alive:
            raise RuntimeError(f"sink exited with {sink.returncode()}:\n{sink.tail()}")
        if get_json(sink.health_url, timeout=1.0)[0] == 200:
            return time.monotonic()
        time.sleep(HEALTH_POLL_S)
    raise TimeoutError(f"sink not answering at {sink.health_url} after {READY_TIMEOUT_S}s:\n{sink.tail()}")


def lag_phase(stack: Stack, day: SinkDay, rate: float, duration_s: float, interval_s: float, progress: bool,
              meter: CpuMeter) -> Lag:
    prefix = f"lag-{stack.run}-"
    publisher = Publisher(stack.settings, day.events, int(rate * duration_s), rate, prefix, progress)
    reader = SnapshotReader(stack.snapshot_path, prefix)
    meter.mark("lag start", time.monotonic())
    watch(reader, publisher, stall_s=max(15.0, 4 * interval_s))
    meter.mark("lag done", time.monotonic())
    if publisher.failures:
        raise RuntimeError(f"{len(publisher.failures)} lag events not acknowledged: {publisher.failures[0]!r}")
    missing = len(publisher.expected - reader.lags_ms.keys())
    say(f"lag: sent {publisher.sent:,} in {publisher.seconds:.1f} s; {len(publisher.expected):,} become rows, "
        f"{missing} never seen; publisher gave up {publisher.behind_s:.1f} s to falling behind; "
        f"{reader.polls} snapshot polls, slowest {reader.slowest_poll_s:.3f} s")
    lags = [ms for event_id, ms in reader.lags_ms.items() if event_id in publisher.expected]
    return Lag(rate, duration_s, publisher.sent, len(publisher.expected), publisher.seconds, lags, publisher.behind_s)


def contention(meter: CpuMeter, start: str, end: str) -> dict[str, float]:
    """Cores busy on the whole machine between two marks, ours (sink, bench, broker) and everyone else's."""
    cores = meter.cores(start, end)
    ours = sum(v for k, v in cores.items() if k != "machine")
    return {**cores, "others": round(max(0.0, cores.get("machine", 0.0) - ours), 2)} if cores else {}


def start_profile(pid: int, out: str) -> subprocess.Popen[bytes]:
    py_spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(py_spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "100",
                             "--output", out, "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def measure(stack: Stack, day: SinkDay, args: argparse.Namespace, plan: dict[str, float], meter: CpuMeter,
            interval_s: float) -> dict[str, object]:
    base, rows = baselines(stack, day)
    sink = processes.sink({**stack.env, "OMNI_SNAPSHOT_INTERVAL_S": str(interval_s)}, stack.root / "logs")
    stack.services.append(sink)
    throughput = drain(sink, stack, len(day.records), rows, meter, args.profile)
    lag = lag_phase(stack, day, plan["rate"], plan["duration_s"], interval_s, not args.no_progress, meter)
    context = {
        "quick": bool(args.quick and not args.events),
        "snapshot_interval_s": interval_s,
        "contention": {"drain": contention(meter, "drain start", "drain done"),
                       "lag": contention(meter, "lag start", "lag done")},
        "sink_batch_max": stack.settings.sink_batch_max,
        "sink_batch_wait_ms": stack.settings.sink_batch_wait_ms,
        "snapshot_mb": round(stack.snapshot_path.stat().st_size / 1e6, 1) if stack.snapshot_path.exists() else None,
        "seed": args.seed,
        "ledger": args.ledger,
        "kafka_python_crc32c": "c" if crc32c_c else "pure python",  # kafka-python checks every batch's CRC
    }
    return {"throughput": throughput, "lag": lag, "base": base, "context": context}


def run(args: argparse.Namespace) -> dict[str, object]:
    plan = dict(QUICK if args.quick else FULL)
    plan.update({k: v for k, v in (("events", args.events), ("rate", args.rate), ("duration_s", args.duration)) if v})
    progress = not args.no_progress
    broker = ensure_broker()
    kafka = "external" if os.environ.get("KAFKA_BOOTSTRAP") and not broker.pid else read_kafka_version()
    print(f"broker {broker.bootstrap} (Kafka {kafka}, {'started' if broker.started_here else 'reused'})")
    day = sink_day(int(plan["events"]), args.seed, ledger=args.ledger)
    print(f"workload: {len(day.records):,} records on the sink's topics, {day.bytes / 1e6:.1f} MB (seed {args.seed})")
    stack = Stack.create(broker.bootstrap)
    interval_s = args.snapshot_interval or Settings.from_env().snapshot_interval_s
    pids = {"bench": os.getpid()}
    broker_pid = broker.pid or broker_status().pid
    if broker_pid:
        pids["broker"] = broker_pid
    meter = CpuMeter(pids)
    try:
        ensure_topics(stack.settings)
        prefill(stack.settings, day, progress)
        measured = measure(stack, day, args, plan, meter, interval_s)
    finally:
        for problem in stack.close(keep=args.keep):
            print(f"clean-up: {problem}", file=sys.stderr)
        if args.keep:
            print(f"kept: topics with prefix {stack.prefix}, files in {stack.root}")
        release(broker)
    context = {**measured["context"], "kafka": kafka, "cpus": os.cpu_count(), "commit": git_commit()}  # type: ignore[dict-item]
    line = result_line(measured["throughput"], measured["lag"], measured["base"], context)  # type: ignore[arg-type]
    for text in summary(line):
        print(text)
    return line


def main(argv: list[str] | None = None) -> int:
    return run_cli(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
