"""The two-hop identity protocol against the reference graph, under any interleaving.

Links are applied as the agents apply them: hop 1 at the known identifier's record, hop 2 (a
claim) at the other identifier's, each identifier's commands in order, different identifiers in
any order (hypothesis picks). Records may keep pointing at a customer that was merged away;
the merge events say where it went. Following them must give exactly the reference model's
grouping, with the survivor seen first, and purchases must earn for the resolved customer.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.identity import Graph
from domain.identity_log import IdentityRecord, resolve
from domain.purchases import settle
from streams.base import Event
from streams.customers import (
    AttributePurchase,
    ClaimIdentifier,
    CustomersMerged,
    IdentifyPurchase,
    LinkIdentifiers,
    PurchaseLine,
)
from streams.loyalty import EarnPoints, MergeWallets

T0 = datetime(2026, 11, 26, 9, tzinfo=UTC)


def ident(n: int) -> str:
    return f"idh-{n:040d}"


def key_of(command: Event) -> str:
    return command.known if isinstance(command, LinkIdentifiers) else command.identifier  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=15), st.data())
def test_links_applied_in_two_hops_group_identifiers_as_the_reference_model(links, data) -> None:
    records: dict[str, IdentityRecord] = {}
    queues: dict[str, deque[Event]] = {}
    merges: list[CustomersMerged] = []
    graph = Graph()
    for i, (a, b) in enumerate(links):
        at = T0 + timedelta(minutes=i)
        command = LinkIdentifiers(event_id=f"link-{i}", occurred_at=at, source_node="web", known=ident(a),
                                  identifier=ident(b))
        queues.setdefault(ident(a), deque()).append(command)
        graph.link(ident(a), ident(b), at)
    # A link's hop 1 may run long after a later link's: the reference sees them in send order,
    # so first-seen times are the links' own times in both.
    while any(queues.values()):
        ready = sorted(k for k, q in queues.items() if q)
        key = data.draw(st.sampled_from(ready), label="identifier")
        command = queues[key].popleft()
        step = resolve(records.get(key), command)  # type: ignore[arg-type]
        if step.record is not None:
            records[key] = step.record
        for out in step.out:
            if isinstance(out, CustomersMerged):
                merges.append(out)
            elif isinstance(out, ClaimIdentifier):
                queues.setdefault(key_of(out), deque()).append(out)

    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for m in merges:
        parent[find(m.merged)] = find(m.survivor)
    groups: dict[str, set[str]] = {}
    for identifier, record in records.items():
        groups.setdefault(find(record.customer_id), set()).add(identifier)
    assert {frozenset(g) for g in groups.values()} == {frozenset(g) for g in graph.customers().values()}


def test_a_purchase_is_attributed_to_the_identifiers_customer_and_earns_each_line_once() -> None:
    purchase = IdentifyPurchase(
        event_id="rcpt-9:identity", occurred_at=T0, source_node="st-001", identifier=ident(1),
        purchase_event_id="rcpt-9", purchase_key="st-001/rcpt-9", channel="store", node="st-001",
        lines=[PurchaseLine(line_no=1, sku="SKU-001", quantity=2, net_cents=3_998),
               PurchaseLine(line_no=2, sku="SKU-002", quantity=1, net_cents=50)],
    )
    first = resolve(None, purchase)
    again = resolve(first.record, purchase)
    assert first.record is not None and first.record.customer_id == "cus-" + f"{1:040d}"
    assert again.out == first.out and again.record == first.record  # a redelivery derives the same
    (attribute,) = first.out
    assert isinstance(attribute, AttributePurchase) and attribute.purchase_key == "st-001/rcpt-9"
    settled = settle(None, attribute, timedelta(days=30), "st-001/rcpt-9")
    earns = [e for e in settled.out if isinstance(e, EarnPoints)]
    assert [(e.lot_id, e.net_cents, e.quantity, e.return_window_s) for e in earns] == [
        ("st-001/rcpt-9:1", 3_998, 2, 30 * 86_400), ("st-001/rcpt-9:2", 50, 1, 30 * 86_400)]
    assert all(e.customer_id == first.record.customer_id for e in earns)
    repeat = settle(settled.record, attribute, timedelta(days=30), "st-001/rcpt-9")
    assert repeat.out == settled.out and repeat.record == settled.record


def test_a_merge_tells_the_merged_customers_wallet_to_join_the_survivor() -> None:
    link = LinkIdentifiers(event_id="l1", occurred_at=T0 + timedelta(hours=1), source_node="web", known=ident(2),
                           identifier=ident(1))
    older = resolve(None, IdentifyPurchase(
        event_id="p:identity", occurred_at=T0, source_node="st-001", identifier=ident(1), purchase_event_id="p",
        purchase_key="st-001/p", channel="store", node="st-001",
        lines=[PurchaseLine(line_no=1, sku="SKU-001", quantity=1, net_cents=100)]))
    (claim,) = resolve(None, link).out
    step = resolve(older.record, claim)  # type: ignore[arg-type]
    merged, wallets = step.out
    assert isinstance(merged, CustomersMerged) and isinstance(wallets, MergeWallets)
    assert merged.survivor == older.record.customer_id and wallets.other_id == merged.survivor  # type: ignore[union-attr]
    assert wallets.customer_id == merged.merged and wallets.other_since == T0


def test_configured_points_lifetime_travels_on_each_earn_and_the_wallet_expires_the_oldest_lot_first() -> None:
    from domain.wallet import Wallet
    from domain.wallet_log import apply
    from streams.loyalty import HoldPoints

    def bought(n: int, at: datetime) -> AttributePurchase:
        return AttributePurchase(
            event_id=f"a{n}", occurred_at=at, source_node="st-001", purchase_key=f"st-001/r{n}", customer_id="cus-1",
            purchase_event_id=f"s{n}", purchased_at=at, channel="store", node="st-001", fulfilled=True,
            lines=[PurchaseLine(line_no=1, sku="SKU-001", quantity=1, net_cents=10_000)])

    year = timedelta(days=365)
    wallet = Wallet(customer_id="cus-1")
    for n, at in enumerate((T0, T0 + timedelta(days=100))):
        (earn, _) = settle(None, bought(n, at), timedelta(0), f"st-001/r{n}", year).out
        assert isinstance(earn, EarnPoints) and earn.lifetime_s == 365 * 86_400
        wallet = apply(wallet, earn, n).wallet
    later = apply(wallet, HoldPoints(event_id="h", occurred_at=T0 + year + timedelta(days=1), source_node="web",
                                     customer_id="cus-1", request_id="q", points=150,
                                     expires_at=T0 + year + timedelta(days=2), client="web"), 2)
    assert [(e.cause, e.points) for e in later.entries if e.cause == "expire_lot"] == [("expire_lot", 100)]
    assert later.answer is not None and later.answer.status == "declined"  # 100 of the 200 points expired
    assert later.wallet.balance("available") == 100
