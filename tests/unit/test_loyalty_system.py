"""Identity, purchases and wallets together, as the agents run them, against a reference.

Every command goes onto the log of the record it changes (identity requests by identifier or
purchase key, wallet commands by customer id); hypothesis picks which log moves next and
crashes steps: a step saves its record, its sends are lost, and the command is delivered
again (for a wallet: every command since its partition's last commit, at the same offsets,
on a state that already saw them). Links merge
customers while their purchases, fulfilments, cancellations and returns are in flight, and
wallets merge by ledger transfer and forward. Afterwards, for every group of identifiers the
reference graph joins:

- exactly one wallet of the group is not merged away, and it holds all the group's points:
  what the reference earns for the group's completed purchases (base and promotion bonus)
  minus the returned shares;
- every other wallet of the group is empty and forwards to a wallet of the group;
- no wallet is negative, each wallet's balances equal the sum of its entries, no entry id
  posts twice, and the merge clearing account nets to zero over all wallets.
"""

from __future__ import annotations

from collections import Counter, deque
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.identity import Graph
from domain.identity_log import IdentityRecord, resolve
from domain.loyalty_rules import EarnRules, clawback_points, points_for_line
from domain.purchases import PurchaseRecord, settle
from domain.wallet import CUSTOMER_ACCOUNTS, Entry, Wallet
from domain.wallet_log import apply
from streams.base import Event
from streams.customers import (
    AttributePurchase,
    CancelPurchase,
    ClaimIdentifier,
    CustomersMerged,
    FulfilPurchase,
    IdentifyPurchase,
    LinkIdentifiers,
    PurchaseLine,
    PurchaseRecorded,
    PurchaseUnits,
    ReturnPurchase,
    identity_key,
)
from streams.loyalty import TierChanged

T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
FLAT = EarnRules(tier_multipliers={"base": 1.0, "silver": 1.0, "gold": 1.0})  # tiers here change no points
SKUS = ("SKU-001", "SKU-002")


def ident(n: int) -> str:
    return f"idh-{n:040d}"


purchase_st = st.tuples(
    st.integers(0, 5),  # identifier
    st.booleans(),  # online order (earns when fulfilled) or till sale
    st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 3), st.integers(100, 5_000),
                       st.sampled_from([0, 0, 7, 40])),  # the promotions' bonus points for the line
             min_size=1, max_size=3),
    st.integers(0, 2),  # units cancelled (orders) of the first line's SKU
    st.integers(0, 4),  # units returned of the first line's SKU
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=6), st.lists(purchase_st, max_size=6),
       st.data())
def test_points_follow_purchases_returns_and_merges_to_one_wallet_per_customer(links, purchases, data) -> None:
    graph = Graph()
    identity_q: dict[str, deque[Event]] = {}
    expected_by_identifier: Counter[str] = Counter()
    t = 0

    def at() -> datetime:
        nonlocal t
        t += 1
        return T0 + timedelta(minutes=t)

    def send(event: Event) -> None:
        identity_q.setdefault(identity_key(event), deque()).append(event)

    for i, (a, b) in enumerate(links):
        when = at()
        graph.link(ident(a), ident(b), when)
        send(LinkIdentifiers(event_id=f"l{i}", occurred_at=when, source_node="web", known=ident(a),
                             identifier=ident(b)))
    for i, (who, online, lines, cancel, ret) in enumerate(purchases):
        when = at()
        graph.link(ident(who), ident(who), when)
        key = f"order/o{i}" if online else f"st-001/r{i}"
        plines = [PurchaseLine(line_no=n, sku=sku, quantity=q, net_cents=c, bonus_points=b)
                  for n, (sku, q, c, b) in enumerate(lines, start=1)]
        send(IdentifyPurchase(event_id=f"p{i}:identity", occurred_at=when, source_node="st-001",
                              identifier=ident(who), purchase_event_id=f"p{i}", purchase_key=key,
                              channel="web" if online else "store", node="st-001", fulfilled=not online,
                              lines=plines))
        sku = lines[0][0]
        if online and cancel:
            send(CancelPurchase(event_id=f"c{i}", occurred_at=at(), source_node="web", purchase_key=key,
                                lines=[PurchaseUnits(line_no=1, sku=sku, quantity=cancel)]))
        if online:
            send(FulfilPurchase(event_id=f"f{i}", occurred_at=at(), source_node="st-001", purchase_key=key,
                                how="shipped"))
        if ret:
            send(ReturnPurchase(event_id=f"x{i}", occurred_at=at(), source_node="st-002", purchase_key=key,
                                return_event_id=f"ret{i}", lines=[PurchaseUnits(line_no=1, sku=sku, quantity=ret)]))
        expected_by_identifier[ident(who)] += _reference_points(plines, cancel if online else 0, sku, ret)

    identities: dict[str, IdentityRecord] = {}
    purchase_records: dict[str, PurchaseRecord] = {}
    wallet_q: dict[str, deque[Event]] = {}
    wallets: dict[str, Wallet] = {}
    offsets: Counter[str] = Counter()
    uncommitted: dict[str, list[tuple[Event, int]]] = {}
    posted: dict[str, dict[str, Entry]] = {}

    def route(events: list) -> None:  # type: ignore[type-arg]
        for e in events:
            if isinstance(e, ClaimIdentifier | AttributePurchase):
                send(e)
            elif isinstance(e, CustomersMerged | PurchaseRecorded | TierChanged):
                continue
            else:
                wallet_q.setdefault(e.customer_id, deque()).append(e)  # type: ignore[attr-defined]

    def apply_wallet(customer: str, command: Event, offset: int, send: bool = True) -> None:
        out = apply(wallets.get(customer, Wallet(customer_id=customer)), command, offset, FLAT)  # type: ignore[arg-type]
        wallets[customer] = stored(out.wallet)
        for e in out.entries:
            known = posted.setdefault(customer, {}).setdefault(e.entry_id, e)
            assert known == e, f"{e.entry_id} posted twice with different contents"
        if send:
            route(out.out)

    for _ in range(2_000):
        ready = [("i", k) for k, q in identity_q.items() if q] + [("w", k) for k, q in wallet_q.items() if q]
        if not ready:
            break
        kind, key = data.draw(st.sampled_from(sorted(ready)), label="log")
        # A crash after a step saved its record but before its sends left: the step's outputs
        # are lost and the command is delivered again (with the saved record).
        crash = data.draw(st.integers(0, 9), label="crash") == 0
        if kind == "i":
            command = identity_q[key].popleft()
            for attempt in range(2 if crash else 1):
                if isinstance(command, AttributePurchase | FulfilPurchase | CancelPurchase | ReturnPurchase):
                    step = settle(purchase_records.get(key), command, timedelta(0), key)
                    purchase_records[key] = stored(step.record)
                    out = step.out
                else:
                    istep = resolve(identities.get(key), command)  # type: ignore[arg-type]
                    if istep.record is not None:
                        identities[key] = stored(istep.record)
                    out = istep.out
                if not (crash and attempt == 0):
                    route(out)
        else:
            command = wallet_q[key].popleft()
            offsets[key] += 1
            uncommitted.setdefault(key, []).append((command, offsets[key]))
            apply_wallet(key, command, offsets[key], send=not crash)
            if crash:  # everything since the last commit comes again, on a state that saw it all
                for again, offset in uncommitted[key]:
                    apply_wallet(key, again, offset)
            if data.draw(st.integers(0, 3), label="commit") == 0:
                uncommitted[key] = []
    assert not any(identity_q.values()) and not any(wallet_q.values()), "logs did not drain"

    def root(customer: str) -> str:
        seen = set()
        while (w := wallets.get(customer)) is not None and w.merged_into:
            assert customer not in seen, "merge cycle"
            seen.add(customer)
            customer = w.merged_into
        return customer

    for wallet in wallets.values():
        sums: Counter[str] = Counter()
        for e in posted.get(wallet.customer_id, {}).values():
            sums[e.credit] += e.points
            sums[e.debit] -= e.points
        for account in CUSTOMER_ACCOUNTS:
            assert wallet.balance(account) >= 0
            assert wallet.balance(account) == sums[account], (wallet.customer_id, account)
        if wallet.merged_into:
            assert not any(wallet.balances.values()), "a merged-away wallet kept points"
    clearing = sum(e.points * ((e.credit == "program:merges") - (e.debit == "program:merges"))
                   for entries in posted.values() for e in entries.values())
    assert clearing == 0, "points left in the merge clearing account"

    for group in graph.customers().values():
        customers = {identities[i].customer_id for i in group if i in identities}
        roots = {root(c) for c in customers}
        assert len(roots) <= 1, f"one customer, several live wallets: {roots}"
        want = sum(expected_by_identifier[i] for i in group)
        have = sum(wallets[r].balance("available") for r in roots if r in wallets)
        assert have == want, (group, want, have)


def stored(record: Any) -> Any:
    """Through the tables' encoding (exclude_defaults), as the agents keep records."""
    return type(record).model_validate_json(record.model_dump_json(exclude_defaults=True))


def _reference_points(lines: list[PurchaseLine], cancelled: int, sku: str, returned: int) -> int:
    """What the group keeps: each line's points and bonus net of cancelled units (both rounded
    down), less the returned units' share of the two together (rounded up)."""
    left_cancel = cancelled
    net: list[tuple[PurchaseLine, int, int]] = []
    for line in sorted(lines, key=lambda x: -x.line_no):
        take = min(left_cancel, line.quantity) if line.sku == sku else 0
        left_cancel -= take
        q = line.quantity - take
        if q:
            cents = line.net_cents * q // line.quantity
            bonus = line.bonus_points * q // line.quantity
            net.append((line, q, points_for_line(cents, line.sku, "base", FLAT) + bonus))
    total = 0
    left_return = returned
    for line, q, points in sorted(net, key=lambda x: x[0].line_no):
        units = min(left_return, q) if line.sku == sku else 0
        left_return -= units
        total += points - (clawback_points(points, q, units) if units else 0)
    return total
