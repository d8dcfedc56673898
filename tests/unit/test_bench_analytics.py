"""The pure parts of `python -m bench.analytics`: percentiles, rates and the shape of its JSON line."""

from __future__ import annotations

import json

import pytest

from bench.analytics_result import (
    BASELINE_KEYS,
    RESULT_KEYS,
    Baselines,
    Lag,
    Throughput,
    Timed,
    per_s,
    percentile,
    result_line,
    summary,
)


def a_run(lags_ms: list[float] | None = None) -> tuple[Throughput, Lag, Baselines]:
    throughput = Throughput(records=20_000, rows=35_000, startup_s=1.0, drain_s=2.0, sink_cpu_s=1.75)
    lag = Lag(rate_target=2_000.0, duration_s=15.0, sent=30_000, tracked=25_000, publish_s=15.0,
              lags_ms=[100.0, 200.0, 300.0] if lags_ms is None else lags_ms)
    base = Baselines(records=20_000, rows=35_000, raw_consume=Timed(4.0, 3.0), decode=Timed(0.5, 0.5),
                     frames=Timed(0.25, 0.25), insert=Timed(0.25, 0.2), snapshot=Timed(0.1, 0.05),
                     raw_consume_aiokafka=Timed(1.0, 0.8))
    return throughput, lag, base


def test_the_median_of_an_even_count_lies_halfway_between_the_middle_two() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5


def test_p99_of_a_hundred_and_one_values_is_the_ninety_ninth_of_them() -> None:
    assert percentile([float(v) for v in range(101)], 0.99) == 99.0


def test_percentiles_of_one_value_are_that_value_and_of_none_are_none() -> None:
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None


def test_a_quantile_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError):
        percentile([1.0], 99)


def test_a_rate_over_no_time_is_zero_rather_than_an_error() -> None:
    assert per_s(10, 0.0) == 0.0
    assert per_s(10, 4.0) == 2.5


def test_the_result_line_starts_with_the_agreed_keys_and_is_json() -> None:
    line = result_line(*a_run(), context={"quick": True, "snapshot_interval_s": 1.0, "commit": "abc1234"})
    assert list(line)[: len(RESULT_KEYS)] == list(RESULT_KEYS)
    assert json.loads(json.dumps(line)) == line
    assert set(BASELINE_KEYS) <= set(line["baselines"])  # type: ignore[arg-type]


def test_rows_per_second_count_from_the_sink_answering_to_its_last_row() -> None:
    line = result_line(*a_run(), context={})
    assert line["rows_per_s"] == 17_500.0  # 35,000 rows / 2 s drain
    assert line["events_per_s"] == 10_000.0
    assert line["rows_per_s_from_spawn"] == round(35_000 / 3, 1)  # start-up included
    assert line["rows_per_sink_cpu_s"] == 20_000.0


def test_lag_figures_are_milliseconds_from_the_events_that_make_rows() -> None:
    line = result_line(*a_run(), context={})
    assert (line["lag_p50_ms"], line["lag_max_ms"]) == (200.0, 300.0)
    assert line["lag_p99_ms"] == 298.0
    assert (line["lag_events"], line["lag_seen"], line["lag_published"]) == (25_000, 3, 30_000)
    assert line["rate_achieved"] == 2_000.0  # every published event counts towards the rate


def test_a_lag_phase_that_saw_nothing_reports_no_percentiles() -> None:
    line = result_line(*a_run(lags_ms=[]), context={})
    assert line["lag_p50_ms"] is None and line["lag_p99_ms"] is None and line["lag_seen"] == 0


def test_baselines_give_each_stage_alone_and_their_sum_in_series() -> None:
    figures = a_run()[2].figures()
    assert figures["raw_consume_per_s"] == 5_000.0
    assert figures["raw_consume_aiokafka_per_s"] == 20_000.0
    assert figures["decode_rows_per_s"] == 70_000.0
    assert figures["stages_rows_per_s"] == 35_000.0  # 1 s of decode + frames + insert
    assert a_run()[2].cpu_us_per_record() == {"consume": 150.0, "consume_aiokafka": 40.0, "decode+rows": 25.0,
                                              "frames": 12.5, "insert": 10.0}


def test_context_never_overrides_a_measured_figure() -> None:
    line = result_line(*a_run(), context={"rows_per_s": 1, "kafka": "4.1.1", "snapshot_mb": 3.0})
    assert line["rows_per_s"] == 17_500.0
    assert (line["kafka"], line["snapshot_mb"]) == ("4.1.1", 3.0)


def test_the_summary_names_every_headline_figure() -> None:
    text = "\n".join(summary(result_line(*a_run(), context={"snapshot_interval_s": 1.0})))
    for word in ("rows/s", "raw consume", "decode+rows", "insert", "p99", "seen 3 of 25000"):
        assert word in text
