"""Wallets through a SIGKILL with two workers and every command delivered twice.

Commands go straight to `loyalty.commands` (the wallet log alone; tests/integration/
test_loyalty_crash.py runs the whole path from the tills). This used to fail about 2 runs in 7:
the killed worker died before its first commit, and after it rejoined nobody read its
partitions again. The cause was aiokafka reading Faust's empty set of active partitions as
"all partitions" during a rebalance (see app.py); fixed there.

Afterwards, for every customer: the balances the owning worker answers equal the reference
model replayed from `loyalty.commands` as Kafka kept it, and equal the sum of the distinct
entries on `loyalty.ledger-entries`; no entry id was ever posted with two different contents.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from domain.wallet import Wallet
from domain.wallet_log import apply
from ops.processes import get_json
from streams.codec import decode, encode
from streams.loyalty import CapturePoints, EarnPoints, HoldPoints, VoidPoints
from streams.topics import LOYALTY_COMMANDS
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, read_to_end, wait_for

pytestmark = pytest.mark.integration
CUSTOMERS = [f"cus-{n:040x}" for n in range(1, 41)]


def commands(now: datetime, customers: list[str] = CUSTOMERS, rounds: int = 6, seed: int = 7,
             hold_for: timedelta = timedelta(hours=1)) -> list:  # type: ignore[type-arg]
    """Per round and customer: earn, hold, then capture (60 %) or void; the same list for the same arguments."""
    rnd = random.Random(seed)
    out = []
    for round_ in range(rounds):
        for c, customer in enumerate(customers):
            common = {"occurred_at": now, "source_node": "st-001", "customer_id": customer}
            out.append(EarnPoints(event_id=f"e-{c}-{round_}", **common, lot_id=f"r-{c}-{round_}:1",
                                  points=rnd.randint(10, 60), return_window_s=0))
            request = f"q-{c}-{round_}"
            out.append(HoldPoints(event_id=f"h-{c}-{round_}", **common, request_id=request,
                                  points=rnd.randint(20, 90), expires_at=now + hold_for, client="till-1"))
            if rnd.random() < 0.6:
                out.append(CapturePoints(event_id=f"c-{c}-{round_}", **common, request_id=request))
            else:
                out.append(VoidPoints(event_id=f"v-{c}-{round_}", **common, request_id=request, reason="abandoned"))
    return out


def test_wallets_survive_a_sigkill_with_two_workers_and_every_command_twice(pipeline: Pipeline) -> None:
    first = pipeline.worker("worker-a").start()
    first.wait_healthy()
    second = pipeline.worker("worker-b").start()
    second.wait_healthy()
    kafka = producer(pipeline.env["KAFKA_BOOTSTRAP"])
    topic = f"{pipeline.prefix}loyalty.commands"
    log = commands(datetime.now(UTC))
    half = len(log) // 2
    for command in log[:half]:
        for _ in range(2):
            kafka.send(topic, key=command.customer_id.encode(), value=encode(command))
    kafka.flush()
    ledger = f"{pipeline.prefix}loyalty.ledger-entries"
    wait_for(lambda: len(read_to_end(pipeline.env["KAFKA_BOOTSTRAP"], ledger)), lambda n: n >= 50, 60,
             "the workers to be posting")
    first.kill9()  # mid-stream: the other half is still to come
    for command in log[half:]:
        for _ in range(2):
            kafka.send(topic, key=command.customer_id.encode(), value=encode(command))
    kafka.flush()
    first.start()
    first.wait_healthy(120)

    # The reference: the log as Kafka kept it, applied per customer in offset order.
    expected: dict[str, Wallet] = {c: Wallet(customer_id=c) for c in CUSTOMERS}
    for record in sorted(read_to_end(pipeline.env["KAFKA_BOOTSTRAP"], topic), key=lambda r: (r.partition, r.offset)):
        command = decode(LOYALTY_COMMANDS, record.value, 1 << 20)
        expected[command.customer_id] = apply(expected[command.customer_id], command, record.offset).wallet

    def answered() -> dict[str, tuple[int, int, int]]:
        out = {}
        for customer in CUSTOMERS:
            status, body = get_json(f"http://127.0.0.1:{second.env['OMNI_WEB_PORT']}/wallets/{customer}/")
            if status == 200:
                out[customer] = (body["pending"], body["available"], body["held"])
        return out

    want = {c: (w.balance("pending"), w.balance("available"), w.balance("held")) for c, w in expected.items()}
    try:
        got = wait_for(answered, lambda a: a == want, 180, "every wallet equal to the reference model")
    except AssertionError as err:  # say where the workers are: lag and assignment of each
        state = {w.name: (get_json(w.health_url), _lag(w)) for w in (first, second)}
        raise AssertionError(f"{err}\nworkers: {state}") from None
    assert sum(v[1] for v in got.values()) > 0 and all(v[2] == 0 for v in got.values())

    posted = [json.loads(r.value) for r in read_to_end(pipeline.env["KAFKA_BOOTSTRAP"],
                                                       f"{pipeline.prefix}loyalty.ledger-entries")]
    entries: dict[str, dict] = {}  # type: ignore[type-arg]
    for p in posted:
        for e in p["entries"]:
            key = e["entry_id"]
            assert entries.setdefault(key, {**e, "customer": p["customer_id"]}) == {**e, "customer": p["customer_id"]}
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    for e in entries.values():
        sums[e["customer"]][e["debit"]] -= e["points"]
        sums[e["customer"]][e["credit"]] += e["points"]
    for customer, (pending, available, held) in want.items():
        assert (sums[customer]["pending"], sums[customer]["available"], sums[customer]["held"]) == (
            pending, available, held), customer
        assert min(sums[customer][a] for a in ("pending", "available", "held")) >= 0


def _lag(worker) -> list[str]:  # type: ignore[no-untyped-def]
    import urllib.request

    url = f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return [line for line in text.splitlines() if line.startswith("omnistream_consumer_lag") and "loyalty" in line]
