"""Identity: normalisation, keyed hashing, and resolution with a deterministic survivor."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.identity import Graph, InvalidIdentifierError, customer_id_for, hashed, normalise, survivor

T0 = datetime(2026, 11, 26, 9, tzinfo=UTC)
KEY = b"test-key"


@pytest.mark.parametrize("raw", ["+31 6 1234 5678", "0612345678", "0031612345678", " 06-1234-5678 ", "+31612345678"])
def test_one_phone_written_five_ways_is_one_identifier(raw: str) -> None:
    assert normalise("phone", raw) == "+31612345678"


def test_emails_are_trimmed_and_lowercased_and_cards_lose_spaces_and_dashes() -> None:
    assert normalise("email", "  Ann.Smit@Example.COM ") == "ann.smit@example.com"
    assert normalise("loyalty_card", "lc 0042-7781") == "LC00427781"


@pytest.mark.parametrize(("kind", "raw"), [("phone", "12345"), ("email", "not-an-email"), ("loyalty_card", "ab-1")])
def test_an_identifier_that_cannot_be_normalised_is_refused_with_a_reason_that_does_not_repeat_it(
    kind: str, raw: str
) -> None:
    with pytest.raises(InvalidIdentifierError) as refused:
        normalise(kind, raw)  # type: ignore[arg-type]
    assert kind.split("_")[-1] in str(refused.value) and raw not in str(refused.value)  # logs and DuckDB see it


def test_the_hash_is_keyed_stable_and_never_contains_the_raw_value() -> None:
    phone = normalise("phone", "0612345678")
    a, b = hashed("phone", phone, KEY), hashed("phone", phone, KEY)
    assert a == b and a.startswith("idh-") and "612345678" not in a
    assert hashed("phone", phone, b"another-key") != a  # without the key, no dictionary attack
    assert hashed("email", phone, KEY) != a  # the kind is part of the identity


def test_the_survivor_is_the_customer_seen_first_and_on_a_tie_the_smaller_id() -> None:
    assert survivor(("cus-b", T0), ("cus-a", T0 + timedelta(days=1))) == "cus-b"
    assert survivor(("cus-b", T0), ("cus-a", T0)) == "cus-a"


links = st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), st.integers(0, 600)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(links, st.randoms(use_true_random=False))
def test_linked_identifiers_resolve_to_one_customer_whatever_the_order_of_the_links(plan, rnd: random.Random) -> None:
    """The final grouping depends only on which identifiers are linked, not on the order of
    the link events; the survivor of each group is the customer seen first."""
    def build(order: list[tuple[int, int, int]]) -> Graph:
        graph = Graph()
        for a, b, minutes in order:
            graph.link(f"idh-{a:040d}", f"idh-{b:040d}", T0 + timedelta(minutes=minutes))
        return graph

    graph = build(plan)
    # The grouping: connected components of the links.
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b, _ in plan:
        parent[find(a)] = find(b)
    groups = {frozenset(f"idh-{n:040d}" for n in parent if find(n) == find(m)) for m in parent}
    assert {frozenset(ids) for ids in graph.customers().values()} == groups
    shuffled = list(plan)
    rnd.shuffle(shuffled)
    other = build(shuffled)
    assert {frozenset(ids) for ids in other.customers().values()} == groups
    for ids in graph.customers().values():  # one customer per group, and every id resolves to it
        assert len({graph.customer_of(i) for i in ids}) == 1


def test_two_known_customers_linked_merge_into_the_older_and_say_so() -> None:
    graph = Graph()
    card, phone, email = "idh-card", "idh-phone", "idh-email"
    store_customer, _ = graph.link(card, phone, T0)  # enrolled at a till
    web_customer, _ = graph.link(email, email, T0 + timedelta(days=3))  # an online account
    kept, gone = graph.link(email, phone, T0 + timedelta(days=5))  # adds the phone online
    assert (kept, gone) == (store_customer, web_customer)
    assert store_customer == customer_id_for(card)
    assert {graph.customer_of(i) for i in (card, phone, email)} == {store_customer}
