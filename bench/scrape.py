"""Reads counters and histograms out of a Prometheus /metrics page."""

from __future__ import annotations

import math
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

# {(sample name, sorted label items): value}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def fetch(url: str, timeout_s: float = 5.0) -> Samples | None:
    """Every sample of the page at `url`, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return parse(response.read().decode())
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples called `name` whose labels include `labels`."""
    return sum(
        value
        for (sample, items), value in samples.items()
        if sample == name and all((k, v) in items for k, v in labels.items())
    )


def buckets(samples: Samples, histogram: str) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of a histogram, by bound; +Inf last."""
    rows = [
        (float(dict(items)["le"]), value)
        for (sample, items), value in samples.items()
        if sample == f"{histogram}_bucket"
    ]
    return sorted(rows)


def quantile(q: float, cumulative: list[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile: linear inside the bucket holding the q-th observation."""
    if not cumulative or cumulative[-1][1] == 0:
        return None
    rank = q * cumulative[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound  # beyond the last finite bucket: its bound is all we know
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return None
