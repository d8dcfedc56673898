"""Loyalty through a SIGKILL, with two workers and every event delivered twice.

Customers shop at tills with loyalty cards, link emails to their cards, find that two cards
are one customer (merges: the wallet seen later moves into the older one), shop again by
email, return goods with the receipt, and redeem over the request/reply topic path, while one
of two workers is SIGKILLed mid-stream and restarted. Every ingest event and every
redemption command is published twice. Afterwards:

- no purchase line is credited twice: one `earn` entry per lot across all wallets, and each
  customer group's issued points are exactly what its purchases earn (clawbacks exactly the
  returned shares);
- no balance is ever negative on the ledger, and every wallet's balances equal the sum of its
  distinct entries, which were never posted twice with different contents;
- the state the owning worker answers equals the reference model (`domain.wallet_log.apply`)
  replayed from `loyalty.commands` as Kafka kept it, and merged-away wallets are empty and
  point at their group's survivor.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.identity import Graph, hashed, normalise
from domain.loyalty_rules import clawback_points
from domain.wallet import Wallet
from domain.wallet_log import apply
from ops.processes import get_json
from streams.codec import decode, encode
from streams.customers import CustomerIdentifierLinked
from streams.loyalty import CapturePoints, HoldPoints, VoidPoints
from streams.pos import CustomerRef, PosReturn, PosSale, ReturnLine, SaleLine, Tender
from streams.topics import LOYALTY_COMMANDS
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, read_to_end, wait_for

pytestmark = pytest.mark.integration
KEY = "crash-test-key"
N = 12  # cards 0..11; cards 4..7 turn out to be customers 0..3; 8..11 return goods


def card(i: int) -> CustomerRef:
    return CustomerRef(kind="loyalty_card", value=f"LC-CRASH-{i:04d}")


def email(i: int) -> CustomerRef:
    return CustomerRef(kind="email", value=f"shopper{i}@example.net")


def ident(ref: CustomerRef) -> str:
    return hashed(ref.kind, normalise(ref.kind, ref.value), KEY.encode())


def sale(n: int, who: CustomerRef, at: datetime, units: int, cents: int) -> PosSale:
    store = f"st-00{n % 3 + 1}"
    return PosSale(event_id=f"sale-{n}", occurred_at=at, source_node=store, receipt_id=f"r-{n}", terminal_id="t-1",
                   cashier_id="c-1", customer=who, tenders=[Tender(method="card", amount_cents=units * cents)],
                   lines=[SaleLine(line_no=1, sku=f"SKU-C{n % 7:02d}", quantity=units, unit_price_cents=cents)])


def test_loyalty_survives_a_sigkill_with_two_workers_and_every_event_twice(pipeline: Pipeline) -> None:
    env = {"OMNI_RETURN_WINDOW_DAYS": "0", "OMNI_IDENTITY_KEY": KEY}
    first = pipeline.worker("worker-a", **env).start()
    first.wait_healthy()
    second = pipeline.worker("worker-b", **env).start()
    second.wait_healthy()
    bootstrap = pipeline.env["KAFKA_BOOTSTRAP"]
    kafka = producer(bootstrap)

    def publish(topic: str, key: str, event: Any) -> None:
        for _ in range(2):  # every event twice: a producer retry, a replay
            kafka.send(f"{pipeline.prefix}{topic}", key=key.encode(), value=encode(event))

    t0 = datetime.now(UTC) - timedelta(hours=1)
    graph, earned, clawed = Graph(), Counter[str](), Counter[str]()
    sales: dict[int, PosSale] = {}

    def till(n: int, who: CustomerRef, minute: int, units: int, cents: int) -> None:
        sales[n] = sale(n, who, t0 + timedelta(minutes=minute), units, cents)
        graph.link(ident(who), ident(who), sales[n].occurred_at)
        earned[ident(who)] += units * cents // 100
        publish("pos.transactions", sales[n].source_node, sales[n])

    def link(known: CustomerRef, other: CustomerRef, minute: int) -> None:
        at = t0 + timedelta(minutes=minute)
        graph.link(ident(known), ident(other), at)
        publish("customers.identifiers", known.value, CustomerIdentifierLinked(
            event_id=f"link-{known.value}-{other.value}", occurred_at=at, source_node="web", known_as=known,
            identifier=other, channel="web"))

    # Before the crash: every card shops, in card order (so card i is seen before card i + 4).
    for i in range(N):
        till(i, card(i), i, 1 + i % 3, 1_000 + 100 * i)
    for i in range(4):
        link(card(i), email(i), 20 + i)  # an email joins an existing customer
        link(card(i + 4), card(i), 30 + i)  # two known customers are one: i + 4 moves into i
    kafka.flush()
    ledger_topic = f"{pipeline.prefix}loyalty.ledger-entries"
    wait_for(lambda: len(read_to_end(bootstrap, ledger_topic)), lambda n: n >= 10, 90, "the workers to be posting")
    first.kill9()

    # While one worker is down: shopping by email, returns with the receipt, redemptions.
    for i in range(4):
        till(100 + i, email(i), 40 + i, 2, 1_500)
    for i in range(8, N):
        line = sales[i].lines[0]
        publish("pos.transactions", "st-009", PosReturn(
            event_id=f"return-{i}", occurred_at=t0 + timedelta(minutes=50 + i), source_node="st-009",
            return_id=f"ret-{i}", terminal_id="t-9", cashier_id="c-9", original_receipt_id=sales[i].receipt_id,
            original_node=sales[i].source_node, refund_method="card",
            lines=[ReturnLine(line_no=1, sku=line.sku, quantity=1, refund_cents=line.unit_price_cents,
                              condition="sellable")]))
        clawed[ident(card(i))] += clawback_points(line.quantity * line.unit_price_cents // 100, line.quantity, 1)
    kafka.flush()
    first.start()
    first.wait_healthy(120)

    def customer_of(ref: CustomerRef) -> str:  # a customer's id derives from the identifier it was first seen by
        return "cus-" + ident(ref).removeprefix("idh-")

    for i in range(4):  # redeem at the survivors through the topic path, each command twice
        customer = customer_of(card(i))
        at = datetime.now(UTC)
        common = {"occurred_at": at, "source_node": "st-001", "customer_id": customer}
        request = f"redeem-{i}"
        publish("loyalty.commands", customer, HoldPoints(event_id=f"h-{i}", **common, request_id=request,
                                                         points=5, expires_at=at + timedelta(hours=1), client="till-1"))
        end = CapturePoints(event_id=f"c-{i}", **common, request_id=request) if i % 2 else VoidPoints(
            event_id=f"v-{i}", **common, request_id=request, reason="abandoned")
        publish("loyalty.commands", customer, end)
    kafka.flush()

    groups = list(graph.customers().values())
    commands_topic = f"{pipeline.prefix}loyalty.commands"

    def state() -> dict[str, Any]:
        wallets: dict[str, Wallet] = {}
        records = sorted(read_to_end(bootstrap, commands_topic), key=lambda r: (r.partition, r.offset))
        for record in records:
            command = decode(LOYALTY_COMMANDS, record.value, 1 << 22)
            key = record.key.decode()
            wallets[key] = apply(wallets.get(key, Wallet(customer_id=key)), command, record.offset).wallet
        entries: dict[tuple[str, str], dict[str, Any]] = {}
        negative = []
        for r in read_to_end(bootstrap, ledger_topic):
            posted = json.loads(r.value)
            if min(posted["pending"], posted["available"], posted["held"]) < 0:
                negative.append(posted)
            for e in posted["entries"]:
                key = (posted["customer_id"], e["entry_id"])
                assert entries.setdefault(key, e) == e, f"{key} posted twice with different contents"
        return State({"wallets": wallets, "entries": entries, "negative": negative})

    def sums_of(entries: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Counter[str]]:
        sums: dict[str, Counter[str]] = defaultdict(Counter)
        for (customer, _), e in entries.items():
            sums[customer][e["debit"]] -= e["points"]
            sums[customer][e["credit"]] += e["points"]
        return sums

    def balances(wallet: Wallet) -> tuple[int, int, int]:
        return wallet.balance("pending"), wallet.balance("available"), wallet.balance("held")

    def settled(s: State) -> bool:
        issued = _per_group(groups, s["entries"], "program:issued")
        sums = sums_of(s["entries"])
        return all(issued[g] == sum(earned[i] for i in group) for g, group in enumerate(groups)) and all(
            balances(w) == (sums[c]["pending"], sums[c]["available"], sums[c]["held"]) for c, w in s["wallets"].items())

    # Eventually (the ledger trails the log it is replayed from): every purchase earned by its
    # group, and every wallet's ledger equal to the reference replayed from the log.
    final = wait_for(state, settled, 240, "every purchase earned, every ledger equal to the reference")
    wallets, entries = final["wallets"], final["entries"]
    assert final["negative"] == [], "a posting left a balance below zero"
    lots = Counter(e["cause_id"] for (_, _), e in entries.items() if e["cause"] == "earn")
    assert lots and max(lots.values()) == 1, "a purchase line credited twice"
    back = _per_group(groups, entries, "program:clawed_back")
    assert [back[g] for g in range(len(groups))] == [sum(clawed[i] for i in group) for group in groups]
    assert sum(1 for w in wallets.values() if w.merged_into) == 4  # cards 4..7 moved into 0..3

    port = second.env["OMNI_WEB_PORT"]
    for customer, wallet in wallets.items():
        mine = balances(wallet)
        if wallet.merged_into:
            assert mine == (0, 0, 0)
            continue
        answered = wait_for(lambda c=customer: get_json(f"http://127.0.0.1:{port}/wallets/{c}/"),
                            lambda r: r[0] == 200, 60, f"{customer}'s wallet")[1]
        assert (answered["pending"], answered["available"], answered["held"]) == mine, customer
    live = {c for c, w in wallets.items() if not w.merged_into}
    for group in groups:  # one live wallet per customer group holds its points
        members = {"cus-" + i.removeprefix("idh-") for i in group} & set(wallets)
        assert len(members & live) <= 1, group


class State(dict):  # type: ignore[type-arg]
    def __repr__(self) -> str:  # a failure message names the gaps, not every wallet
        issued = Counter(e["cause"] for e in self["entries"].values())
        return f"<{len(self['wallets'])} wallets, entries by cause {dict(issued)}>"


def _per_group(groups: list[set[str]], entries: dict[tuple[str, str], dict[str, Any]], account: str) -> Counter[int]:
    """Points that moved through a program account, per customer group (of the wallet that posted)."""
    group_of = {"cus-" + i.removeprefix("idh-"): g for g, group in enumerate(groups) for i in group}
    out: Counter[int] = Counter()
    for (customer, _), e in entries.items():
        if account in (e["debit"], e["credit"]):
            out[group_of[customer]] += e["points"]
    return out
