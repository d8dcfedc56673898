"""`python -m analytics.reconcile`: DuckDB's aggregates against the topics and the worker's tables.

Reads the analyst snapshot read-only, so it runs beside a live sink. Checks:
- per fact table, its rows against the distinct rows the topics imply up to the offsets stored in
  the snapshot (re-read with kafka-python through the sink's own `rows_for`);
- stock on hand and damaged per SKU and node against the worker's `GET /stock/{sku}/` (merchandise:
  `stock_on_hand` leaves out the capacity SKUs, whose rows the fact-row check still counts);
- wallet balances against the worker's `GET /wallets/{customer_id}/`.
Exit code 0: no drift; 1: drift; 2: a check could not run; 3: no drift, but wallets have changes
that fell due (points maturing or expiring, holds expiring, tiers lapsing) more than a minute ago
and the wallet timer has not posted them: the timer is behind, the projection is not wrong.
Wallets are compared with their ledger as posted (`ledger` of `GET /wallets/{id}/`), not with
the "as of now" read. While events still flow the worker is ahead of the snapshot, so the last
two report drift that closes (a differing wallet is re-read a few times first); run them when
it is quiet.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from kafka import KafkaConsumer, TopicPartition

from analytics.batch import PK
from analytics.distinct_keys import DistinctKeys
from analytics.drift import Check, compare_counts, compare_maps, exit_code, render
from analytics.rows import rows_for
from analytics.sink import FACT_SOURCES
from ops import logs
from settings import Settings
from streams.codec import DecodeError, decode

log = logging.getLogger("omnistream.reconcile")
DUE_GRACE_S = 60.0  # changes due longer ago than this mean the wallet timer is behind
RECHECKS, RECHECK_WAIT_S = 3, 2.0  # a differing wallet is compared again this often, this far apart


def snapshot_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def topic_row_counts(settings: Settings, through: dict[tuple[str, int], int]) -> dict[str, int]:
    """Distinct rows per fact table (by primary key) in the fact topics before `through` offsets."""
    keys = DistinctKeys()
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap.split(","), group_id=None,
                             enable_auto_commit=False, **settings.security.kafka_python_kwargs())
    try:
        for spec in FACT_SOURCES:
            name = spec.full_name(settings.topic_prefix)
            tps = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())]
            ends = {tp: through.get((tp.topic, tp.partition), 0) for tp in tps}
            for records in _read(consumer, ends):
                for record in records:
                    try:
                        event = decode(spec, record.value, settings.max_event_bytes)
                    except DecodeError:
                        continue  # the sink skips it too (the worker dead-letters it)
                    for table, table_rows in rows_for(event, datetime.now(UTC)).items():
                        keys.add(table, (tuple(row[c] for c in PK[table]) for row in table_rows))
        return keys.counts()
    finally:
        consumer.close()
        keys.close()


def _read(consumer: KafkaConsumer, ends: dict[TopicPartition, int]) -> Any:
    """Lists of records from the beginning up to, not including, each end offset."""
    wanted = [tp for tp, end in ends.items() if end > 0]
    if not wanted:
        return
    consumer.assign(wanted)
    consumer.seek_to_beginning(*wanted)
    deadline = time.monotonic() + 300
    while any(consumer.position(tp) < ends[tp] for tp in wanted):
        if time.monotonic() > deadline:
            raise TimeoutError(f"could not read {wanted[0].topic} to the sink's offsets in 300 s")
        for tp, records in consumer.poll(timeout_ms=500).items():
            yield [r for r in records if r.offset < ends[tp]]


def check_facts(settings: Settings, snapshot: Path) -> list[Check]:
    stored = snapshot_rows(snapshot, "select topic, partition, next_offset from sink_offsets")
    through = {(topic, partition): offset for topic, partition, offset in stored}
    tables = sorted(t for t in PK if t != "dead_letters")
    counts = {t: int(snapshot_rows(snapshot, f"select count(*) from {t}")[0][0]) for t in tables}
    implied = topic_row_counts(settings, through)
    return compare_counts(counts, {t: implied.get(t, 0) for t in tables})


def check_stock(snapshot: Path, worker_url: str, headers: dict[str, str] | None = None) -> Check:
    rows = snapshot_rows(snapshot, "select sku, node, on_hand, damaged from stock_on_hand")
    duck = {(sku, node): (on_hand, damaged) for sku, node, on_hand, damaged in rows}
    authority: dict[Any, Any] = {}
    for sku in sorted({sku for sku, _ in duck}):
        status, body = _get(f"{worker_url}/stock/{sku}/", headers)
        if status not in (200, 404):
            return Check("stock on hand (sku, node)", error=f"GET /stock/{sku}/ answered {status or 'nothing'}")
        for node, p in ((body or {}).get("nodes") or {}).items():
            authority[(sku, node)] = (p["on_hand"], p["damaged"])
    return compare_maps("stock on hand (sku, node)", duck, authority)


def check_wallets(settings: Settings, snapshot: Path, worker_url: str, sample: int,
                  due_grace_s: float = DUE_GRACE_S) -> list[Check]:
    """DuckDB's balances against the wallets' ledgers (drift), and what time has made due that
    the wallet timer has not yet posted (behind), reported apart: one is a wrong projection,
    the other a late timer. A wallet that differs is compared again a few times, a snapshot
    later each, so that a change posted between the two reads is not called drift."""
    limit = f" limit {int(sample)}" if sample > 0 else ""
    sides = _wallet_sides(settings, snapshot, worker_url, f"order by hash(wallet_balances.customer_id){limit}")
    if isinstance(sides, Check):
        return [sides]
    for _ in range(RECHECKS):
        differ = [c for c in sides.duck if sides.duck[c] != sides.ledger.get(c)]
        if not differ:
            break
        time.sleep(RECHECK_WAIT_S)
        wanted = ", ".join("'" + c.replace("'", "''") + "'" for c in differ)
        again = _wallet_sides(settings, snapshot, worker_url, f"where wallet_balances.customer_id in ({wanted})")
        if isinstance(again, Check):
            return [again]
        sides.update(differ, again)
    check = compare_maps("wallet balances (pending, available, held, tier)", sides.duck, sides.ledger)
    note = (f"{sides.merged_away} merged-away customers skipped (their survivor answers)",) \
        if sides.merged_away else ()
    drift = Check(check.name, check.compared, check.drifted, check.examples, notes=note)
    return [drift, _due_check(sides.due, len(sides.ledger), due_grace_s)]


@dataclass
class _WalletSides:
    duck: dict[str, tuple[int, int, int, str]] = field(default_factory=dict)
    ledger: dict[str, tuple[int, int, int, str]] = field(default_factory=dict)
    due: dict[str, tuple[float, str]] = field(default_factory=dict)  # customer -> (seconds overdue, what)
    merged_away: int = 0

    def update(self, asked: list[str], other: _WalletSides) -> None:
        """Replace what is known of the wallets `asked` again with the new reads (a wallet merged
        away in between is no longer compared)."""
        for customer in asked:
            self.duck.pop(customer, None)
            self.ledger.pop(customer, None)
        self.merged_away += other.merged_away
        self.duck.update(other.duck)
        self.ledger.update(other.ledger)
        for customer in other.ledger:
            self.due.pop(customer, None)
        self.due.update(other.due)


def _wallet_sides(settings: Settings, snapshot: Path, worker_url: str, which: str) -> _WalletSides | Check:
    """Both sides of the wallets `which` (a where / order clause on `wallet_balances`) picks."""
    rows = snapshot_rows(snapshot, "select customer_id, pending, available, held, coalesce(tier, 'base') "
                                   "from wallet_balances left join customer_tiers using (customer_id) " + which)
    headers = _token_headers(settings)
    sides = _WalletSides()
    for customer_id, pending, available, held, tier in rows:
        status, body = _get(f"{worker_url}/wallets/{customer_id}/", headers)
        if status != 200:
            return Check("wallet balances", error=f"GET /wallets/{customer_id}/ answered {status or 'nothing'}")
        if body["customer_id"] != customer_id:  # merged away: the survivor answers for it
            sides.merged_away += 1
            continue
        ledger = body["ledger"]
        sides.duck[customer_id] = (int(pending), int(available), int(held), tier)
        sides.ledger[customer_id] = (ledger["pending"], ledger["available"], ledger["held"], ledger["tier"])
        if body.get("due"):
            sides.due[customer_id] = _overdue(body["as_of"], body["due"])
    return sides


def _overdue(as_of: str, due: dict[str, Any]) -> tuple[float, str]:
    late = (datetime.fromisoformat(as_of) - datetime.fromisoformat(due["since"])).total_seconds()
    what = ", ".join(f"{e['cause']} {e['points']}" for e in due["entries"])
    if due.get("tier"):
        what = ", ".join(filter(None, (what, f"tier -> {due['tier']}")))
    return late, what or "housekeeping only"


def _due_check(due: dict[str, tuple[float, str]], compared: int, grace_s: float) -> Check:
    """Wallets with changes due for longer than `grace_s` (a few timer periods) are `behind`."""
    late = sorted(((s, c, what) for c, (s, what) in due.items() if s > grace_s), reverse=True)
    examples = tuple(f"{c}: {what} due {s:.0f} s ago, not yet posted" for s, c, what in late[:3])
    fresh = len(due) - len(late)
    notes = (f"{fresh} wallets with changes due under {grace_s:.0f} s ago (the timer posts them next)",) \
        if fresh else ()
    return Check("wallet changes due, not yet posted (timer)", compared, len(late), examples, notes=notes,
                 kind="behind")


def _token_headers(settings: Settings) -> dict[str, str]:
    """This process's client (OMNI_HTTP_CLIENT/TOKEN); else the first deprecated OMNI_LOYALTY_TOKENS pair."""
    if settings.http_client:
        return settings.http_headers()
    if not settings.loyalty_tokens:
        return {}
    client, token = sorted(settings.loyalty_tokens.items())[0]
    return {"X-Client": client, "Authorization": f"Bearer {token}"}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """GET with a few retries while the owner of a key is being found (503) or nothing answers."""
    status, body = 0, None
    for attempt in range(10):
        status, body = _fetch(url, headers or {})
        if status not in (0, 503):
            break
        time.sleep(min(2.0, 0.2 * (attempt + 1)))
    return status, body


def _fetch(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, None
    except OSError:
        return 0, None


def reconcile(settings: Settings, snapshot: Path, worker_url: str | None, wallet_sample: int) -> list[Check]:
    """Every check; one that fails to run is reported as unchecked, not raised."""
    if not snapshot.exists():
        return [Check("analyst snapshot", error=f"{snapshot} does not exist (is the sink running?)")]
    checks: list[Check] = []
    runs: list[tuple[str, Any]] = [("fact rows", lambda: check_facts(settings, snapshot))]
    if worker_url:
        runs += [("stock on hand", lambda: [check_stock(snapshot, worker_url, _token_headers(settings))]),
                 ("wallet balances", lambda: check_wallets(settings, snapshot, worker_url, wallet_sample))]
    for name, run in runs:
        try:
            checks += run()
        except Exception as err:  # noqa: BLE001 (reported as "could not check", exit 2)
            checks.append(Check(name, error=f"{type(err).__name__}: {err}"))
    return checks


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m analytics.reconcile", description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=settings.analytics_path,
                        help=f"DuckDB file to check, opened read-only (default: {settings.analytics_path})")
    parser.add_argument("--worker-url", default=f"http://127.0.0.1:{settings.web_port}",
                        help="a worker's web address (default: http://127.0.0.1:$OMNI_WEB_PORT)")
    parser.add_argument("--no-worker", action="store_true", help="only compare the fact tables with the topics")
    parser.add_argument("--wallets", type=int, default=500, help="wallets to compare (0: all; default 500)")
    args = parser.parse_args(argv)
    logs.setup(settings.log_format, "WARNING")
    checks = reconcile(settings, args.database, None if args.no_worker else args.worker_url.rstrip("/"),
                       args.wallets)
    print(f"reconcile {args.database}")
    print(render(checks))
    code = exit_code(checks)
    print({0: "no drift", 1: "DRIFT", 2: "could not check everything",
           3: "no drift; the wallet timer is behind (changes due, not yet posted)"}[code])
    return code


if __name__ == "__main__":
    sys.exit(main())
