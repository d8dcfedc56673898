"""The loyalty benchmark's measurements, its summary lines for people and its one JSON line. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.cpu import describe
from bench.hold_traffic import Traffic
from bench.holds import ms, percentile, rate

RESULT_KEYS = (
    "bench", "earns", "entries", "entries_per_s", "hold_p50_ms", "hold_p99_ms", "topic_hold_p50_ms",
    "topic_hold_p99_ms", "floor_per_s", "quick", "kafka", "cpus", "commit",
)
SCALE_KEYS = ("rss_mib", "recovery_s")
# The aims: at least this many entries/s per worker; at most these for the others.
TARGETS: dict[str, float] = {"entries_per_s": 3_000, "hold_p99_ms": 100, "rss_mib": 2_048, "recovery_s": 60}


@dataclass(frozen=True)
class Earning:
    """EarnPoints sent flat out to one worker; `seconds` runs from the first send to the last posting."""

    earns: int
    customers: int
    entries: int  # ledger entries the timed earns posted, read back from loyalty.ledger-entries
    seconds: float
    publish_s: float  # the producer took every earn
    start_s: float  # worker process started until it owned its partitions
    worker_cpu_s: float | None = None
    cores: dict[str, float] = field(default_factory=dict)
    overlapping_commits: int = 0
    longest_commit_s: float = 0.0
    rss_mib: float | None = None
    changelog_bytes: int | None = None  # wallets changelog growth during the timed part
    worker_waiting_share: float | None = None  # of the timed part, the worker waited for a core (contention)

    @property
    def entries_per_s(self) -> float | None:
        return rate(self.entries, self.seconds)

    @property
    def earns_per_s(self) -> float | None:
        return rate(self.earns, self.seconds)


@dataclass(frozen=True)
class HoldRun:
    """Holds offered at a fixed rate over one path ("http" or "topic"); seconds from each send to its answer."""

    path: str
    offered_per_s: float
    holds: int
    p50_s: float | None
    p99_s: float | None
    max_s: float | None
    sending_s: float  # first to last send: `holds / sending_s` is what was actually offered
    answered_s: float  # first send to last answer
    statuses: dict[str, int] = field(default_factory=dict)
    worker_cpu_s: float | None = None
    cores: dict[str, float] = field(default_factory=dict)  # cores each process (and the machine) used meanwhile
    worker_waiting_share: float | None = None  # share of the time the worker waited for a core (contention)
    peak_in_flight: int | None = None  # HTTP: most requests open at once

    @property
    def actually_offered_per_s(self) -> float | None:
        return rate(self.holds, self.sending_s)


def hold_run(path: str, offered_per_s: float, traffic: Traffic, worker_cpu_s: float | None = None,
             cores: dict[str, float] | None = None, worker_waiting_share: float | None = None) -> HoldRun:
    latencies = traffic.latencies_s()
    return HoldRun(path=path, offered_per_s=offered_per_s, holds=len(traffic.sent_at),
                   p50_s=percentile(latencies, 50), p99_s=percentile(latencies, 99), max_s=max(latencies, default=None),
                   sending_s=traffic.sending_s, answered_s=traffic.seconds or 0.0, statuses=dict(traffic.answers),
                   worker_cpu_s=worker_cpu_s, cores=cores or {}, worker_waiting_share=worker_waiting_share,
                   peak_in_flight=getattr(traffic, "peak_in_flight", None))


@dataclass
class WalletScale:
    """`customers` wallets made by earns through a worker, then a worker recovering them on an empty disk."""

    customers: int
    via: str = "changelog"  # how the wallets were made: "changelog" written directly, or "earns" through a worker
    load_s: float | None = None  # until the changelog was written, or from the first earn sent until all applied
    loaded_rss_mib: float | None = None  # the worker that applied them all
    changelog_records: int = 0  # wallets changelog end offsets, all partitions
    changelog_bytes: int | None = None
    web_up_s: float | None = None  # first answer of the recovering worker's /health (503 while recovering)
    recovery_s: float | None = None  # /health answers 200
    rss_mib: float | None = None  # the recovered worker, peak of a few samples
    recovery_cpu_s: float | None = None  # the recovering worker's CPU seconds until /health 200 (all threads)
    recovery_run_queue_s: float | None = None  # and its main thread's seconds waiting for a core meanwhile
    checked: int = 0  # wallets read back over GET /wallets/{customer_id}/
    problems: list[str] = field(default_factory=list)
    error: str | None = None  # why the phase gave no figures

    @property
    def load_entries_per_s(self) -> float | None:
        """Ledger entries/s of the worker that made the wallets (none when they were written directly)."""
        return rate(2 * self.customers, self.load_s) if self.via == "earns" else None


def below_target(line: dict[str, object]) -> list[str]:
    """The measured keys that miss their TARGETS (a missing figure is not counted as a miss)."""
    missed = []
    for key, aim in TARGETS.items():
        value = line.get(key)
        if isinstance(value, int | float) and (value < aim if key == "entries_per_s" else value > aim):
            missed.append(key)
    return missed


def result_line(earning: Earning, http: HoldRun, topic: HoldRun | None, light: HoldRun | None,
                floor_per_s: float, scale: WalletScale | None, quick: bool, kafka: str, cpus: int | None,
                commit: str | None) -> dict[str, object]:
    """RESULT_KEYS first (SCALE_KEYS after them when measured), then context for reading them."""
    line: dict[str, object] = {
        "bench": "loyalty",
        "earns": earning.earns,
        "entries": earning.entries,
        "entries_per_s": earning.entries_per_s,
        "hold_p50_ms": ms(http.p50_s),
        "hold_p99_ms": ms(http.p99_s),
        "topic_hold_p50_ms": ms(topic.p50_s) if topic else None,
        "topic_hold_p99_ms": ms(topic.p99_s) if topic else None,
        "floor_per_s": round(floor_per_s, 1),
    }
    if scale is not None:
        line["rss_mib"] = None if scale.rss_mib is None else round(scale.rss_mib, 1)
        line["recovery_s"] = None if scale.recovery_s is None else round(scale.recovery_s, 1)
    line.update({"quick": quick, "kafka": kafka, "cpus": cpus, "commit": commit})
    line.update({
        "earns_per_s": earning.earns_per_s,
        "earn_customers": earning.customers,
        "ratio": round(earning.earns_per_s / floor_per_s, 3) if earning.earns_per_s and floor_per_s else None,
        "worker_cpu_ms_per_earn": _per(earning.worker_cpu_s, earning.earns),
        "wallets_changelog_bytes_per_earn": None if earning.changelog_bytes is None
        else round(earning.changelog_bytes / max(earning.earns, 1)),
        "cores": earning.cores,
        "worker_waiting_share": earning.worker_waiting_share,
        "rss_mib_small": None if earning.rss_mib is None else round(earning.rss_mib, 1),
    })
    for prefix, run in (("hold", http), ("topic_hold", topic), ("light_hold", light)):
        if run is not None:
            line.update({
                f"{prefix}_offered_per_s": run.offered_per_s,
                f"{prefix}_actually_offered_per_s": run.actually_offered_per_s,
                f"{prefix}_count": run.holds,
                f"{prefix}_max_ms": ms(run.max_s),
                f"{prefix}_answered_per_s": rate(run.holds, run.answered_s),
                f"{prefix}_statuses": run.statuses,
                f"{prefix}_worker_cpu_ms": _per(run.worker_cpu_s, run.holds),
                f"{prefix}_cores": run.cores,
                f"{prefix}_worker_waiting_share": run.worker_waiting_share,
            })
            if run.peak_in_flight is not None:
                line[f"{prefix}_peak_in_flight"] = run.peak_in_flight
    if light is not None:
        line.update({"light_hold_p50_ms": ms(light.p50_s), "light_hold_p99_ms": ms(light.p99_s)})
    if scale is not None:
        line.update({
            "scale_customers": scale.customers,
            "scale_via": scale.via,
            "scale_load_s": None if scale.load_s is None else round(scale.load_s, 1),
            "scale_entries_per_s": scale.load_entries_per_s,
            "scale_loaded_rss_mib": None if scale.loaded_rss_mib is None else round(scale.loaded_rss_mib, 1),
            "scale_changelog_records": scale.changelog_records,
            "scale_changelog_mb": None if scale.changelog_bytes is None else round(scale.changelog_bytes / 1e6, 1),
            "scale_web_up_s": None if scale.web_up_s is None else round(scale.web_up_s, 1),
            "scale_recovery_cpu_s": None if scale.recovery_cpu_s is None else round(scale.recovery_cpu_s, 1),
            "scale_recovery_run_queue_s": None if scale.recovery_run_queue_s is None
            else round(scale.recovery_run_queue_s, 1),
            "scale_checked_wallets": scale.checked,
            "scale_problems": len(scale.problems),
        })
        if scale.error:
            line["scale_error"] = scale.error[:300]
    line["targets"] = dict(TARGETS)
    line["below_target"] = below_target(line)
    return line


def _per(cpu_s: float | None, count: int) -> float | None:
    return None if not cpu_s or not count else round(1000 * cpu_s / count, 3)


def _s(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def _share(share: float | None) -> str:
    return "?" if share is None else f"{share:.0%}"


def summary(earning: Earning, runs: list[HoldRun], floor_per_s: float, scale: WalletScale | None) -> list[str]:
    e = earning
    lines = [
        f"earning, 1 worker: {e.earns} earns over {e.customers} customers = {e.entries} ledger entries in "
        f"{e.seconds:.1f} s = {e.entries_per_s} entries/s ({e.earns_per_s} earns/s; published in {e.publish_s:.1f} s; "
        f"worker cpu {1000 * (e.worker_cpu_s or 0) / max(e.earns, 1):.2f} ms/earn, waited for a core "
        f"{_share(e.worker_waiting_share)} of the time; cores used: {describe(e.cores)}; "
        f"commits over interval {e.overlapping_commits}, longest {e.longest_commit_s:.1f} s)",
        f"floor: {floor_per_s:.0f} records/s (raw aiokafka read + send, the same earn records)",
    ]
    for run in runs:
        lines.append(
            f"holds over {run.path} at {run.offered_per_s:g}/s offered ({run.actually_offered_per_s}/s actually), "
            f"{run.holds} holds: p50 {ms(run.p50_s)} ms, p99 {ms(run.p99_s)} ms, max {ms(run.max_s)} ms; "
            f"answered at {rate(run.holds, run.answered_s)}/s; {run.statuses}"
            + (f", at most {run.peak_in_flight} in flight" if run.peak_in_flight is not None else "") + "; worker cpu "
            f"{_per(run.worker_cpu_s, run.holds)} ms/hold, waited for a core {_share(run.worker_waiting_share)} of "
            f"the time; cores used: {describe(run.cores)}")
    if scale is not None and scale.error:
        lines.append(f"scale: no figures: {scale.error}")
    elif scale is not None:
        made = (f"applied by a worker in {_s(scale.load_s)} s ({scale.load_entries_per_s} entries/s)"
                if scale.via == "earns" else f"written to the changelog in {_s(scale.load_s)} s")
        lines.append(f"scale: {scale.customers:,} wallets {made}; recovering worker: /health up after "
                     f"{_s(scale.web_up_s)} s, 200 after {_s(scale.recovery_s)} s (CPU {_s(scale.recovery_cpu_s)} s, "
                     f"waited for a core {_s(scale.recovery_run_queue_s)} s); RSS {_s(scale.rss_mib)} MiB"
                     + (f" (the loading worker {scale.loaded_rss_mib:.0f} MiB)" if scale.loaded_rss_mib else "")
                     + f"; {scale.checked} wallets read back, problems: {scale.problems or 'none'}")
    return lines
