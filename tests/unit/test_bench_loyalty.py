"""The loyalty benchmark's pure parts: its arguments, its workload, its percentiles and the keys of its JSON line."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from bench.hold_traffic import Traffic
from bench.holds import percentile
from bench.loyalty import QUICK_EARNS, QUICK_LATENCY_S, WALLETS, parse_args
from bench.loyalty_http import HttpTraffic
from bench.loyalty_ledger import entries_in
from bench.loyalty_result import (
    RESULT_KEYS,
    SCALE_KEYS,
    Earning,
    WalletScale,
    below_target,
    hold_run,
    result_line,
    summary,
)
from bench.loyalty_workload import (
    ENTRIES_PER_EARN,
    customer,
    earns,
    holds,
    http_holds,
    wallet_records,
)
from bench.recovery import partition_of, table_key
from bench.stack import bench_client_env
from domain.access import authorize
from domain.wallet import Wallet
from domain.wallet_log import apply, posting
from settings import Settings
from streams.codec import decode, encode
from streams.topics import LOYALTY_ANSWERS, LOYALTY_COMMANDS

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
EARNING = Earning(earns=3000, customers=3000, entries=6000, seconds=4.0, publish_s=0.5, start_s=9.0,
                  worker_cpu_s=3.0, changelog_bytes=2_400_000)


def traffic(latencies_ms: list[float], sending_s: float = 1.0) -> Traffic:
    t = Traffic(sending_s=sending_s)
    for n, latency in enumerate(latencies_ms):
        t.sent_at[f"r{n}"], t.answered_at[f"r{n}"] = n / 100, n / 100 + latency / 1000
        t.answers["granted"] += 1
    return t


HTTP = hold_run("http", 500, traffic([float(v) for v in range(1, 101)]), worker_cpu_s=0.05)
TOPIC = hold_run("topic", 500, traffic([20.0] * 10))


def test_quick_and_default_arguments() -> None:
    quick = parse_args(["--quick"])
    assert (quick.earns, quick.customers, quick.seconds, quick.rate) == (QUICK_EARNS, QUICK_EARNS, QUICK_LATENCY_S, 500)
    full = parse_args(["--earns", "100", "--customers", "10", "--rate", "250", "--seconds", "2", "--scale-customers",
                       "5000", "--no-progress", "--keep"])
    assert (full.earns, full.customers, full.rate, full.seconds, full.scale_customers) == (100, 10, 250, 2, 5000)
    assert not full.quick and full.keep and full.no_progress
    assert parse_args([]).scale_customers == 1_000_000


def test_nonsense_arguments_are_refused() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--rate", "0"])
    with pytest.raises(SystemExit):
        parse_args(["--earns", "-5"])


def test_percentiles_interpolate_between_closest_ranks_and_latencies_come_out_in_ms() -> None:
    assert percentile([float(v) for v in range(1, 101)], 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) is None
    assert HTTP.p50_s == pytest.approx(0.0505) and HTTP.p99_s == pytest.approx(0.09901)
    assert HTTP.holds == 100 and HTTP.actually_offered_per_s == 100.0 and HTTP.statuses == {"granted": 100}
    assert HTTP.peak_in_flight is None and hold_run("http", 1, HttpTraffic(peak_in_flight=7)).peak_in_flight == 7


def test_the_json_line_starts_with_the_promised_keys_and_has_no_scale_figures_when_quick() -> None:
    line = result_line(EARNING, HTTP, TOPIC, None, 20_000.0, None, True, "4.1.1", 2, "abc1234")
    assert tuple(line)[: len(RESULT_KEYS)] == RESULT_KEYS
    assert not set(SCALE_KEYS) & set(line)
    assert (line["entries_per_s"], line["earns_per_s"], line["floor_per_s"]) == (1500.0, 750.0, 20_000.0)
    assert (line["hold_p50_ms"], line["hold_p99_ms"], line["topic_hold_p99_ms"]) == (50.5, 99.0, 20.0)
    assert line["worker_cpu_ms_per_earn"] == 1.0 and line["hold_worker_cpu_ms"] == 0.5
    assert line["below_target"] == ["entries_per_s"]
    assert json.loads(json.dumps(line)) == line  # one JSON object, nothing that does not serialise


def test_the_full_run_adds_memory_and_recovery_time_of_the_scale_phase() -> None:
    scale = WalletScale(customers=1_000_000, via="earns", load_s=500.0, recovery_s=75.26, rss_mib=2100.04, checked=4,
                        changelog_records=1_000_000, changelog_bytes=900_000_000)
    line = result_line(EARNING, HTTP, None, None, 20_000.0, scale, False, "4.1.1", 2, "abc1234")
    assert tuple(line)[: len(RESULT_KEYS) + len(SCALE_KEYS)] == RESULT_KEYS[:9] + SCALE_KEYS + RESULT_KEYS[9:]
    assert (line["rss_mib"], line["recovery_s"], line["scale_entries_per_s"]) == (2100.0, 75.3, 4000.0)
    assert line["topic_hold_p99_ms"] is None
    assert below_target(line) == ["entries_per_s", "rss_mib", "recovery_s"]
    written = result_line(EARNING, HTTP, None, None, 1.0, WalletScale(customers=10, load_s=2.0), False, "", 2, None)
    assert written["scale_via"] == "changelog" and written["scale_entries_per_s"] is None  # no worker applied them
    assert summary(EARNING, [HTTP, TOPIC], 1.0, scale)[-1].startswith("scale: 1,000,000 wallets applied by a worker")


def test_customers_look_like_canonical_ids_and_commands_are_keyed_and_partitioned_by_them() -> None:
    assert re.fullmatch(r"cus-[0-9a-f]{40}", customer("r1", 7)) and customer("r1", 7) != customer("r2", 7)
    commands = list(earns("r1", 0, 6, 3, 100, NOW))
    decoded = [decode(LOYALTY_COMMANDS, c.value, 1 << 20) for c in commands]
    assert [c.key for c in commands] == [e.customer_id.encode() for e in decoded]
    assert len({e.customer_id for e in decoded}) == 3 and len({e.lot_id for e in decoded}) == 6
    assert all(e.points == 100 and e.return_window_s == 0 for e in decoded)
    assert 0 <= partition_of(decoded[0].customer_id, LOYALTY_COMMANDS.partitions) < LOYALTY_COMMANDS.partitions


def test_an_earn_posts_two_entries_and_a_hold_of_its_points_is_granted() -> None:
    earn = decode(LOYALTY_COMMANDS, next(earns("r1", 0, 1, 1, 100, NOW)).value, 1 << 20)
    earned = apply(Wallet(customer_id=earn.customer_id), earn, 0)
    posted = posting(earn, earned)
    assert posted is not None and entries_in([encode(posted)]) == ENTRIES_PER_EARN
    hold_command = holds("r1", 0, 1, 1, NOW)[0]
    held = apply(earned.wallet, decode(LOYALTY_COMMANDS, hold_command.value, 1 << 20), 1)
    assert held.answer is not None and held.answer.status == "granted"
    assert held.answer.command_id == hold_command.command_id  # what the topic path matches answers by
    assert WALLETS.answers is LOYALTY_ANSWERS and WALLETS.verdict in held.answer.model_dump()


def test_http_holds_and_the_bench_client_match_what_the_worker_accepts() -> None:
    (who, body), *_ = http_holds("r1", 5, 2, 3)
    assert who == customer("r1", 2) and body == {"request_id": "br-r1-5", "points": 1, "ttl_s": 3600.0}
    settings = Settings.from_env(bench_client_env("t0ken"))
    headers = settings.http_headers()
    verdict = authorize(settings.api_clients(), "POST", "/wallets/{customer_id}/holds/", headers["X-Client"],
                        headers["Authorization"].removeprefix("Bearer "))
    assert verdict.allowed, verdict.reason
    assert settings.http_rate_per_s >= 100_000  # the bench measures the worker, not the rate limit


def test_the_written_wallets_changelog_is_what_the_agent_would_leave_after_one_earn_each() -> None:
    """One record per bucket, keyed as Faust's JSON key serializer writes the bucket, on the
    customers' partition; inside, each customer's wallet as put_wallet stores it at its offset."""
    import json

    from tables.wallet_buckets import bucket_of

    records = list(wallet_records("r1", 12, 100, LOYALTY_COMMANDS.partitions, NOW))
    stored = {}
    for partition, key, value in records:
        for who, raw in json.loads(value).items():
            assert (partition, key) == (partition_of(who, 4), table_key(bucket_of(who, 4)))
            stored[who] = raw.encode()
    offsets = [0] * LOYALTY_COMMANDS.partitions
    for command in earns("r1", 0, 12, 12, 100, NOW):
        earn = decode(LOYALTY_COMMANDS, command.value, 1 << 20)
        partition = partition_of(earn.customer_id, 4)
        wallet = apply(Wallet(customer_id=earn.customer_id), earn, offsets[partition]).wallet
        assert stored[earn.customer_id] == wallet.model_dump_json(exclude_defaults=True).encode()
        assert Wallet.model_validate_json(stored[earn.customer_id]).balance("available") == 100
        offsets[partition] += 1
    assert sum(offsets) == 12 and len(stored) == 12


def test_a_visibility_sale_carries_a_card_and_names_the_earn_its_wallet_will_post() -> None:
    from bench.loyalty import visible_figures
    from bench.loyalty_visible import Visible, sale
    from streams.codec import decode
    from streams.topics import POS_TRANSACTIONS

    key, value, earn_id = sale("r1", 7)
    event = decode(POS_TRANSACTIONS, value, 1 << 20)
    assert key == event.source_node.encode() and event.customer is not None
    assert earn_id == f"{event.source_node}/{event.receipt_id}:earn:1"  # the purchase record's earn id
    figures = visible_figures(Visible(20.0, 4, 3, [10.0, 20.0, 30.0]))
    assert (figures["earn_visible_p50_ms"], figures["earn_visible_seen"]) == (20.0, "3/4")
