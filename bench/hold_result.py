"""The hold benchmark's measurements, its summary lines for people and its one JSON line."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.cpu import describe
from bench.holds import ms, rate

RESULT_KEYS = (
    "bench", "holds", "holds_per_s", "holds_per_s_two_workers", "p50_ms", "p99_ms", "floor_per_s",
    "quick", "kafka", "cpus", "commit",
)
SCALE_KEYS = ("rss_mib", "recovery_s")


@dataclass(frozen=True)
class Throughput:
    """N holds sent flat out at `workers` workers; `seconds` runs from the first send to the last answer."""

    workers: int
    holds: int
    seconds: float
    answers: dict[str, int]
    start_s: float  # worker processes started until every SKU partition is owned
    worker_cpu_s: float | None = None  # all workers, during the timed part
    changelog_bytes: int | None = None  # stock changelog growth during the timed part
    overlapping_commits: int = 0
    longest_commit_s: float = 0.0
    rss_mib: float | None = None  # first worker, after the run
    cores: dict[str, float] = field(default_factory=dict)  # cores each process (and the machine) used, timed part

    @property
    def per_s(self) -> float | None:
        return rate(self.holds, self.seconds)


@dataclass(frozen=True)
class Latency:
    """Holds offered at a fixed rate to one worker; seconds from each send to its answer."""

    offered_per_s: float
    holds: int
    p50_s: float | None
    p99_s: float | None
    max_s: float | None
    answered_s: float  # first send to last answer
    light_per_s: float | None = None  # the same at a light load, to separate queueing from the path
    light_p50_s: float | None = None
    light_p99_s: float | None = None
    light_upstream_p50_s: float | None = None  # send until the worker's producer took the answer
    light_routed_p50_s: float | None = None  # send until the router's producer took the command


@dataclass
class Scale:
    """A worker restoring `skus` x `nodes` positions from the stock changelog on an empty data dir."""

    skus: int
    nodes: int
    changelog_bytes: int = 0
    write_s: float = 0.0
    web_up_s: float | None = None  # first answer of /health (503 while recovering)
    recovery_s: float | None = None  # /health answers 200
    rss_mib: float | None = None
    checked: int = 0  # SKUs read back over GET /stock/{sku}/
    problems: list[str] = field(default_factory=list)
    error: str | None = None  # why the phase gave no figures

    @property
    def positions(self) -> int:
        return self.skus * self.nodes


def result_line(one: Throughput, two: Throughput, latency: Latency, floor_per_s: float, scale: Scale | None,
                quick: bool, kafka: str, cpus: int | None, commit: str | None) -> dict[str, object]:
    """RESULT_KEYS first (SCALE_KEYS after them when measured), then context for reading them."""
    line: dict[str, object] = {
        "bench": "inventory",
        "holds": one.holds,
        "holds_per_s": one.per_s,
        "holds_per_s_two_workers": two.per_s,
        "p50_ms": ms(latency.p50_s),
        "p99_ms": ms(latency.p99_s),
        "floor_per_s": round(floor_per_s, 1),
    }
    if scale is not None:
        line["rss_mib"] = None if scale.rss_mib is None else round(scale.rss_mib, 1)
        line["recovery_s"] = None if scale.recovery_s is None else round(scale.recovery_s, 1)
    line.update({"quick": quick, "kafka": kafka, "cpus": cpus, "commit": commit})
    line.update({
        "granted": one.answers.get("granted", 0),
        "offered_per_s": latency.offered_per_s,
        "latency_holds": latency.holds,
        "answered_per_s_at_offered": rate(latency.holds, latency.answered_s),
        "max_ms": ms(latency.max_s),
        "light_per_s": latency.light_per_s,
        "light_p50_ms": ms(latency.light_p50_s),
        "light_p99_ms": ms(latency.light_p99_s),
        "light_routed_p50_ms": ms(latency.light_routed_p50_s),
        "light_answer_sent_p50_ms": ms(latency.light_upstream_p50_s),
        "ratio": round(one.per_s / floor_per_s, 3) if one.per_s and floor_per_s else None,
    })
    if one.worker_cpu_s:
        line["worker_cpu_ms_per_hold"] = round(1000 * one.worker_cpu_s / one.holds, 2)
    if two.worker_cpu_s:
        line["worker_cpu_ms_per_hold_two_workers"] = round(1000 * two.worker_cpu_s / two.holds, 2)
    if one.changelog_bytes is not None:
        line["stock_changelog_bytes_per_hold"] = round(one.changelog_bytes / one.holds)
    line["rss_mib_small"] = None if one.rss_mib is None else round(one.rss_mib, 1)
    line["cores"] = one.cores
    line["cores_two_workers"] = two.cores
    if scale is not None:
        line.update({"scale_positions": scale.positions, "scale_changelog_mb": round(scale.changelog_bytes / 1e6, 1),
                     "scale_web_up_s": None if scale.web_up_s is None else round(scale.web_up_s, 1),
                     "scale_checked_skus": scale.checked, "scale_problems": len(scale.problems)})
        if scale.error:
            line["scale_error"] = scale.error[:300]
    return line


def summary(one: Throughput, two: Throughput, latency: Latency, floor_per_s: float,
            scale: Scale | None) -> list[str]:
    lines = [
        f"throughput, {t.workers} worker(s): {t.holds} holds in {t.seconds:.1f} s = {t.per_s} holds/s "
        f"(answers {dict(t.answers)}; workers ready in {t.start_s:.1f} s; worker cpu "
        f"{1000 * (t.worker_cpu_s or 0) / t.holds:.2f} ms/hold; cores used: {describe(t.cores)}; "
        f"commits over interval {t.overlapping_commits}, longest {t.longest_commit_s:.1f} s)"
        for t in (one, two)
    ]
    lines.append(f"latency at {latency.offered_per_s:g} holds/s offered, {latency.holds} holds: "
                 f"p50 {ms(latency.p50_s)} ms, p99 {ms(latency.p99_s)} ms, max {ms(latency.max_s)} ms; "
                 f"answered at {rate(latency.holds, latency.answered_s)}/s")
    if latency.light_per_s:
        lines.append(f"latency at {latency.light_per_s:g} holds/s: p50 {ms(latency.light_p50_s)} ms, "
                     f"p99 {ms(latency.light_p99_s)} ms; p50 from send until the router sent the command on "
                     f"{ms(latency.light_routed_p50_s)} ms, until the worker sent the answer "
                     f"{ms(latency.light_upstream_p50_s)} ms")
    lines.append(f"floor: {floor_per_s:.0f} records/s (raw aiokafka read + send)")
    if scale is not None and scale.error:
        lines.append(f"scale: no figures: {scale.error}")
    elif scale is not None:
        lines.append(f"scale: {scale.positions:,} positions: /health up after {scale.web_up_s} s, 200 after "
                     f"{scale.recovery_s} s; RSS {scale.rss_mib} MiB; {scale.checked} SKUs read back, "
                     f"problems: {scale.problems or 'none'}")
    return lines
