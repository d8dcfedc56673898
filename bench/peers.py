"""`python -m bench.peers [--quick]`: one stock workload through Omnistream's peers on the same broker.

Movements keyed by SKU (bench/peers_workload.py: read-modify-write of a changelog-backed
per-SKU state with duplicate suppression, one output per input) are published once to an input
topic; then each runner reads all of it into its own output topic:
- `floor`: a raw aiokafka consume-and-produce loop, no state (the ceiling on this machine);
- `quix`: Quix Streams with its RocksDB state, in its own venv (`.cache/peers-venv`);
- `kstreams`, `kstreams_eos`: Kafka Streams (a Java processor, persistent RocksDB store), at
  least once and exactly_once_v2 (bench/peers_kstreams/);
- `omnistream`: Omnistream's stage runtime, the real app with one batch-native stage
  (bench/peers_omnistream_app.py on runtime/source.py), at least once with the watermark guard;
- `omnistream_eos`: the same stage with each fetch in one Kafka transaction (changelog, outputs
  and consumed offsets);
- `faust`: faust-streaming used per record, one table write and one send each, the way
  Omnistream's stages ran before the batch runtime (bench/peers_faust_app.py).
Throughput is records over the span between the first and the last output record's broker
append time (output topics use LogAppendTime), so start-up is not counted; every runner's
final on hand per SKU is checked against the workload. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from bench.peers_workload import Movement, expected_on_hand, movements
from broker import ensure_broker
from settings import REPO_ROOT

PARTITIONS = 4
QUIX = "quixstreams==3.28.1"
RUNNERS = ("floor", "omnistream", "omnistream_eos", "quix", "kstreams", "kstreams_eos", "faust")
TIMEOUT_S = 1_800.0


def topics(admin: KafkaAdminClient, *names: str) -> None:
    admin.create_topics([NewTopic(n, PARTITIONS, 1, topic_configs={"message.timestamp.type": "LogAppendTime",
                                                                   "min.insync.replicas": "1"}) for n in names])


def publish(bootstrap: str, topic: str, records: list[Movement]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, batch_size=256 * 1024)
    for m in records:
        producer.send(topic, key=m.key, value=m.value)
    producer.flush()
    producer.close()


def collect(bootstrap: str, topic: str, count: int, alive: Callable[[], bool],
            label: str) -> tuple[float, dict[str, int]]:
    """Read `topic` (committed records only) until `count` outputs arrived: (seconds between the
    first and the last output's append, final on hand per SKU)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=50_000,
                             fetch_max_bytes=64 * 1024 * 1024, isolation_level="read_committed")
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        first, last, seen, on_hand = float("inf"), 0.0, 0, {}
        deadline, reported = time.monotonic() + TIMEOUT_S, time.monotonic()
        while seen < count:
            for records in consumer.poll(timeout_ms=1_000).values():
                for r in records:
                    first, last = min(first, r.timestamp), max(last, r.timestamp)
                    out = json.loads(r.value)
                    if "on_hand" in out:  # the floor copies the input as it is
                        on_hand[out["sku"]] = out["on_hand"]
                seen += len(records)
            if time.monotonic() - reported > 5:
                print(f"  {label}: {seen}/{count}", file=sys.stderr)
                reported = time.monotonic()
            if seen < count and not alive():
                raise RuntimeError(f"{label} stopped after {seen} of {count} outputs")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{label}: {seen} of {count} outputs after {TIMEOUT_S:.0f} s")
        return (last - first) / 1000, on_hand
    finally:
        consumer.close()


async def _floor(bootstrap: str, source: str, sink: str, count: int) -> None:
    consumer = AIOKafkaConsumer(source, bootstrap_servers=bootstrap, group_id=f"floor-{uuid.uuid4().hex[:6]}",
                                auto_offset_reset="earliest", enable_auto_commit=False, max_poll_records=5_000)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    try:
        done = 0
        while done < count:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    await producer.send(sink, key=r.key, value=r.value)
                done += len(records)
        await producer.flush()
    finally:
        await consumer.stop()
        await producer.stop()


def quix_python() -> Path:
    """The Quix venv's python, created on first use (Quix pins pydantic below Omnistream's)."""
    venv = REPO_ROOT / ".cache" / "peers-venv"
    python = venv / "bin" / "python"
    stamp = venv / f".{QUIX}"
    if not stamp.exists():
        print(f"  installing {QUIX} into {venv} (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", QUIX], check=True)
        stamp.touch()
    return python


def start(runner: str, bootstrap: str, source: str, sink: str, work: Path, workers: int = 1) -> list[Any]:
    """A runner's processes, reading `source` into `sink` (`workers` of them for Omnistream)."""
    if runner.startswith("omnistream"):
        return [_omnistream(runner, bootstrap, source, sink, work, i, workers) for i in range(workers)]
    return [_start_one(runner, bootstrap, source, sink, work)]


def _omnistream(runner: str, bootstrap: str, source: str, sink: str, work: Path, index: int,
                workers: int) -> subprocess.Popen[bytes]:
    base = source.removesuffix(".in")  # every topic it creates starts so: deleted with the rest
    log = open(work / f"{runner}-{index}.log", "ab")  # noqa: SIM115 (the child owns it)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PEERS_INPUT": source, "PEERS_OUTPUT": sink,
           "PEERS_PARTITIONS": str(PARTITIONS), "PEERS_WORKERS": str(workers), "KAFKA_BOOTSTRAP": bootstrap,
           "OMNI_APP_ID": f"{base}-{runner}", "OMNI_TOPIC_PREFIX": f"{base}.{runner}.",
           "OMNI_DATA_DIR": str(work / f"{runner}-state-{index}"), "OMNI_WEB_PORT": str(_free_port()),
           "OMNI_WEB_HOST": "127.0.0.1", "OMNI_LOG_LEVEL": "WARNING", "OMNI_SESSION_TIMEOUT_S": "10",
           "PEERS_EOS": "1" if runner == "omnistream_eos" else "0"}
    faust_bin = str(Path(sys.executable).with_name("faust"))
    return subprocess.Popen([faust_bin, "-A", "bench.peers_omnistream_app", "worker", "-l", "warn"], env=env,
                            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)


def _start_one(runner: str, bootstrap: str, source: str, sink: str, work: Path) -> subprocess.Popen[bytes]:
    run_id = f"peers-{runner}-{uuid.uuid4().hex[:6]}"
    log = open(work / f"{runner}.log", "ab")  # noqa: SIM115 (the child owns it)
    if runner == "quix":
        argv = [str(quix_python()), str(REPO_ROOT / "bench" / "peers_quix_app.py"), bootstrap, source, sink, run_id,
                str(work / "quix-state")]
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    if runner.startswith("kstreams"):
        from bench import peers_kstreams
        guarantee = "exactly_once_v2" if runner == "kstreams_eos" else "at_least_once"
        return peers_kstreams.start(bootstrap, source, sink, run_id, work / f"{runner}-state", guarantee)
    if runner == "faust":
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PEERS_BOOTSTRAP": bootstrap, "PEERS_INPUT": source,
               "PEERS_OUTPUT": sink, "PEERS_APP_ID": run_id, "PEERS_DATA_DIR": str(work / "faust-state"),
               "PEERS_WEB_PORT": str(_free_port())}
        faust_bin = str(Path(sys.executable).with_name("faust"))
        return subprocess.Popen([faust_bin, "-A", "bench.peers_faust_app", "worker", "-l", "warn"], env=env,
                                cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    raise ValueError(f"unknown runner {runner!r}: choose from {', '.join(RUNNERS)}")


def _free_port() -> int:
    from ops.processes import free_port
    return free_port()


def race(runner: str, bootstrap: str, admin: KafkaAdminClient, source: str, count: int, work: Path,
         expected: dict[str, int], workers: int = 1) -> dict[str, Any]:
    sink = f"{source.removesuffix('.in')}.{runner}"
    topics(admin, sink)
    started = time.monotonic()
    if runner == "floor":
        asyncio.run(_floor(bootstrap, source, sink, count))
        span_s, on_hand = collect(bootstrap, sink, count, lambda: True, runner)
    else:
        procs = start(runner, bootstrap, source, sink, work, workers)
        try:
            span_s, on_hand = collect(bootstrap, sink, count, lambda: all(p.poll() is None for p in procs), runner)
        finally:
            for proc in procs:
                _stop(proc)
    wall_s = time.monotonic() - started
    per_s = round(count / span_s, 1) if span_s > 0 else None
    correct = runner == "floor" or on_hand == expected
    print(f"{runner}: {per_s} records/s ({count} in {span_s:.1f} s between first and last output; "
          f"{wall_s:.1f} s with start-up); final on hand per SKU {'correct' if correct else 'WRONG'}")
    return {"per_s": per_s, "span_s": round(span_s, 2), "wall_s": round(wall_s, 1), "correct": correct}


def _stop(proc: Any) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30,000 movements instead of 300,000")
    parser.add_argument("--runners", default=",".join(RUNNERS), help=f"comma separated, of {', '.join(RUNNERS)}")
    parser.add_argument("--skus", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=1, help="Omnistream worker processes (one consumer group)")
    args = parser.parse_args(argv)
    count = 30_000 if args.quick else 300_000
    bootstrap = ensure_broker().bootstrap
    records = movements(count, args.skus)
    expected = expected_on_hand(records)
    source = f"peers-{uuid.uuid4().hex[:8]}.in"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    work = Path(tempfile.mkdtemp(prefix="omni-peers-"))
    results: dict[str, Any] = {}
    try:
        topics(admin, source)
        publish(bootstrap, source, records)
        print(f"{count} movements over {args.skus} SKUs on {source} ({PARTITIONS} partitions); work dir {work}")
        for runner in args.runners.split(","):
            try:
                results[runner] = race(runner, bootstrap, admin, source, count, work, expected, args.workers)
            except Exception as err:  # noqa: BLE001 (one runner failing must not hide the others)
                print(f"{runner}: failed: {err}", file=sys.stderr)
                results[runner] = {"per_s": None, "error": str(err)[:300]}
    finally:
        names = [t for t in admin.list_topics() if t.startswith(source.removesuffix(".in"))]
        admin.delete_topics(names)
        admin.close()
        shutil.rmtree(work, ignore_errors=True)
    line = {
        "movements": count, "skus": args.skus, "omnistream_workers": args.workers,
        "omnistream_per_s": results.get("omnistream", {}).get("per_s"),
        "omnistream_eos_per_s": results.get("omnistream_eos", {}).get("per_s"),
        "faust_per_record_per_s": results.get("faust", {}).get("per_s"),
        "quix_per_s": results.get("quix", {}).get("per_s"),
        "kstreams_per_s": results.get("kstreams", {}).get("per_s"),
        "kstreams_eos_per_s": results.get("kstreams_eos", {}).get("per_s"),
        "floor_per_s": results.get("floor", {}).get("per_s"),
        "runs": results,
    }
    print(json.dumps(line))
    return line


if __name__ == "__main__":
    main()
