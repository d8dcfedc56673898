"""`python -m bench.wallet_timer [--quick]`: what the wallet timer costs a worker, in its own code.

Three figures on the timer's code paths, in this process (no Kafka, no Faust):
- rebuilding the index after a rebalance: every owned wallet parsed from its bucket's JSON and
  its next due moment computed (`agents/advance_wallets.owned_wallets`, `DueIndex.rebuild`);
  baseline: `json.loads` of the same buckets and wallets alone, the floor of reading them;
- a tick with many wallets due: `DueIndex.take_due` per wallet;
- applying an advance (`domain.wallet_log.apply` of a `loyalty.advance` that matures a lot),
  against an earn on the same wallet as baseline (bench.loyalty_costs measures the rest of a
  command's path);
- on a real worker and broker (bench.wallet_timer_live), every wallet falling due at once: how
  long until every maturity is posted, against earns through the same stage.
Wallets look like a regular customer's: five lots (two pending), a spend day per lot, a
silver tier. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta

from bench.wallet_timer_live import measure
from broker import ensure_broker
from domain.loyalty_rules import EarnRules
from domain.wallet import Wallet
from domain.wallet_due import ADVANCES_PER_S, DueIndex
from domain.wallet_log import apply
from streams.loyalty import AdvanceWallet, EarnPoints
from tables.wallet_buckets import bucket_of, encode_bucket

RULES = EarnRules()
T0 = datetime(2031, 1, 1, tzinfo=UTC)  # fixed: the figures must not depend on the day they are run
PARTITIONS = 4


def wallet(n: int) -> Wallet:
    w = Wallet(customer_id=f"cus-{n:040d}")
    for i in range(5):
        at = T0 + timedelta(days=7 * i)
        earn = EarnPoints(event_id=f"e-{n}-{i}", occurred_at=at, source_node="st-001", customer_id=w.customer_id,
                          lot_id=f"st-001/r-{n}-{i}:1", sku="SKU-001", net_cents=12_000, return_window_s=30 * 86400)
        w = apply(w, earn, i, RULES).wallet
    return w


def buckets(wallets: list[Wallet]) -> list[bytes]:
    by_key: dict[str, dict[str, str]] = {}
    for w in wallets:
        by_key.setdefault(bucket_of(w.customer_id, PARTITIONS), {})[w.customer_id] = w.model_dump_json(
            exclude_defaults=True)
    return [encode_bucket(b) for b in by_key.values()]


def per_s(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else float("inf")


def timed(work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="python -m bench.wallet_timer", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 wallets instead of 50,000 (live: 1,000, 10,000)")
    parser.add_argument("--no-live", action="store_true", help="skip the phase on a real worker and broker")
    args = parser.parse_args(argv)
    n = 2_000 if args.quick else 50_000
    template = [wallet(i) for i in range(50)]
    wallets = [t.model_copy(update={"customer_id": f"cus-{i:040d}"}) for i, t in
               ((i, template[i % len(template)]) for i in range(n))]
    raw = buckets(wallets)
    print(f"{n} wallets in {len(raw)} buckets, {sum(map(len, raw)) / n:.0f} bytes each")

    floor_s = timed(lambda: [json.loads(w) for b in raw for w in json.loads(b).values()])
    index = DueIndex(RULES)
    rebuild_s = timed(lambda: index.rebuild(Wallet.model_validate_json(w) for b in raw for w in json.loads(b).values()))
    due_at = T0 + timedelta(days=400)
    take_s = timed(lambda: index.take_due(due_at, 0.0, n))
    print(f"index rebuild: {per_s(n, rebuild_s):,.0f} wallets/s (json.loads alone {per_s(n, floor_s):,.0f}/s); "
          f"a tick with all {n} due: {per_s(n, take_s):,.0f} wallets/s")

    sample = wallets[: min(n, 2_000)]
    advance_at = T0 + timedelta(days=60)
    advances = [AdvanceWallet(event_id=f"a-{i}", occurred_at=advance_at, source_node="hq", customer_id=w.customer_id,
                              as_of=advance_at) for i, w in enumerate(sample)]
    earns = [EarnPoints(event_id=f"x-{i}", occurred_at=advance_at, source_node="st-001", customer_id=w.customer_id,
                        lot_id=f"st-001/x-{i}:1", sku="SKU-001", net_cents=5_000, return_window_s=30 * 86400)
             for i, w in enumerate(sample)]
    advance_s = timed(lambda: [apply(w, c, 100, RULES) for w, c in zip(sample, advances, strict=True)])
    earn_s = timed(lambda: [apply(w, c, 100, RULES) for w, c in zip(sample, earns, strict=True)])
    posted = sum(len(apply(w, c, 100, RULES).entries) for w, c in zip(sample[:50], advances[:50], strict=True))
    print(f"apply an advance: {per_s(len(sample), advance_s):,.0f}/s ({posted / 50:.1f} entries each); "
          f"an earn on the same wallets: {per_s(len(sample), earn_s):,.0f}/s")
    result: dict[str, object] = {
        "wallets": n,
        "index_rebuild_wallets_per_s": per_s(n, rebuild_s),
        "index_rebuild_us_per_wallet": round(rebuild_s / n * 1e6, 1),
        "take_due_wallets_per_s": per_s(n, take_s),
        "advance_decisions_per_s": per_s(len(sample), advance_s),
        "baseline": {"json_loads_wallets_per_s": per_s(n, floor_s), "earn_decisions_per_s": per_s(len(sample), earn_s)},
    }
    if not args.no_live:
        live = measure(ensure_broker().bootstrap, 1_000 if args.quick else 10_000, progress=not args.quick)
        print(f"live: {live.wallets} wallets due at once, all matured in the ledger in {live.all_matured_s} s "
              f"({live.advances_per_s:,.0f}/s; the timer paces at {ADVANCES_PER_S}/s); "
              f"earns through the same stage {live.earns_per_s:,.0f}/s")
        result["live"] = {"wallets": live.wallets, "all_matured_s": live.all_matured_s,
                          "advances_per_s": live.advances_per_s, "timer_pace_per_s": ADVANCES_PER_S}
        baseline = result["baseline"]
        assert isinstance(baseline, dict)
        baseline["live_earns_per_s"] = live.earns_per_s
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
