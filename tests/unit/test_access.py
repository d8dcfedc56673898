"""domain.access: clients and their hashed tokens, the route policy, the rate bucket."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.access import (
    POLICY,
    Bucket,
    Clients,
    ClientsError,
    authorize,
    clients_from_env,
    clients_from_json,
    clients_from_legacy,
    digest,
)

CLIENTS = clients_from_env("till-42:t42:till:store-0042,web-shop:w1:web,ops:o1:operator,bo:b1:backoffice")


def test_a_client_entry_keeps_only_the_digest_of_its_token() -> None:
    client = CLIENTS.get("till-42")
    assert client is not None and "t42" not in repr(client)
    assert client.token_digests == (digest("t42"),) and client.holds_token("t42")
    assert not client.holds_token("t43") and not client.holds_token("")


def test_a_rotated_client_accepts_both_tokens_until_the_old_one_is_removed() -> None:
    text = json.dumps({"clients": [{"client": "web-shop", "scopes": ["web"],
                                    "token_sha256": [digest("old"), digest("new")]}]})
    client = clients_from_json(text).get("web-shop")
    assert client is not None and client.holds_token("old") and client.holds_token("new")


@pytest.mark.parametrize(("text", "says"), [
    ("not json", "not JSON"),
    ('{"clients": {}}', '"clients"'),
    ('{"clients": [{"client": "a b", "scopes": ["web"], "token_sha256": ["' + "0" * 64 + '"]}]}', "client name"),
    ('{"clients": [{"client": "a", "scopes": ["root"], "token_sha256": ["' + "0" * 64 + '"]}]}', "scopes among"),
    ('{"clients": [{"client": "a", "scopes": ["till"], "token_sha256": ["' + "0" * 64 + '"]}]}', "store"),
    ('{"clients": [{"client": "a", "scopes": ["web"], "token_sha256": ["secret"]}]}', "digests"),
    ('{"clients": [{"client": "a", "scopes": ["web"], "token_sha256": ["' + "0" * 64 + '"], "rate_per_s": -1}]}',
     "rate_per_s"),
])
def test_a_malformed_clients_file_is_refused_with_a_message_that_says_where(text: str, says: str) -> None:
    with pytest.raises(ClientsError, match=says):
        clients_from_json(text, "clients.json")


def test_env_entries_need_a_token_and_scopes() -> None:
    with pytest.raises(ClientsError, match="empty token"):
        clients_from_env("a::web")
    with pytest.raises(ClientsError, match="expected"):
        clients_from_env("a:b")


def test_legacy_loyalty_tokens_give_the_web_scope_only() -> None:
    legacy = clients_from_legacy({"checkout": "s3cret"})
    assert authorize(legacy, "POST", "/wallets/{customer_id}/holds/", "checkout", "s3cret").allowed
    assert authorize(legacy, "POST", "/pricing/leases/", "checkout", "s3cret").status == 403


def test_open_routes_need_no_token_and_protected_ones_say_what_is_missing() -> None:
    assert authorize(CLIENTS, "GET", "/health", "", "").allowed
    no_token = authorize(CLIENTS, "POST", "/holds/", "", "")
    assert no_token.status == 401 and "X-Client" in no_token.reason
    wrong = authorize(CLIENTS, "POST", "/holds/", "web-shop", "w2")
    assert wrong.status == 401 and "web-shop" in wrong.reason


def test_no_configured_client_refuses_every_protected_route() -> None:
    verdict = authorize(Clients(), "GET", "/stock/{sku}/", "ops", "o1")
    assert verdict.status == 401 and "OMNI_CLIENT_TOKENS" in verdict.reason


def test_a_client_outside_the_scope_is_told_which_scopes_the_route_needs() -> None:
    verdict = authorize(CLIENTS, "POST", "/holds/", "bo", "b1")
    assert verdict.status == 403
    assert "backoffice" in verdict.reason and "operator" in verdict.reason and "till" in verdict.reason


def test_a_route_without_a_rule_is_refused_to_every_client() -> None:
    verdict = authorize(CLIENTS, "DELETE", "/holds/", "ops", "o1")
    assert verdict.status == 403 and "no access rule" in verdict.reason


def test_every_route_that_changes_state_or_shows_customers_is_protected() -> None:
    for (method, route), rule in POLICY.items():
        if method == "POST" or rule.customer_data:
            assert rule.scopes, (method, route)
        if method == "POST":
            assert rule.changes, f"{route}: a POST is audited"


def test_a_till_acts_for_its_own_store_only() -> None:
    till, web = CLIENTS.get("till-42"), CLIENTS.get("web-shop")
    assert till is not None and web is not None
    assert till.acts_for("store-0042") and not till.acts_for("store-0043") and not till.acts_for(None)
    assert web.acts_for("store-0043") and web.acts_for(None)


def test_a_bucket_lets_a_burst_through_then_the_rate() -> None:
    bucket = Bucket(rate=2.0, burst=3.0)
    assert [bucket.take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(100.0) == pytest.approx(0.5)
    assert bucket.take(100.5) == 0.0


@given(st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), min_size=1, max_size=200),
       st.floats(min_value=0.1, max_value=50), st.floats(min_value=1, max_value=20))
def test_a_bucket_never_lets_more_than_burst_plus_rate_times_elapsed(gaps: list[float], rate: float,
                                                                     burst: float) -> None:
    bucket, now, allowed = Bucket(rate, burst), 0.0, 0
    for gap in gaps:
        now += gap
        wait = bucket.take(now)
        assert wait >= 0
        if wait == 0:
            allowed += 1
    assert allowed <= burst + rate * now + 1e-6


def test_a_till_is_refused_a_request_naming_another_store_or_none() -> None:
    from domain.access import node_refusal

    verdict = authorize(CLIENTS, "POST", "/holds/", "till-42", "t42")
    assert verdict.allowed
    assert node_refusal(verdict, {"node": "store-0042"}) is None
    assert "store-0043" in (node_refusal(verdict, {"node": "store-0043"}) or "")
    assert "(missing)" in (node_refusal(verdict, {"sku": "X"}) or "")
    assert node_refusal(verdict, [1, 2]) is not None
    lease = authorize(CLIENTS, "POST", "/pricing/leases/", "till-42", "t42")
    assert node_refusal(lease, {"store": "store-0042"}) is None and node_refusal(lease, {"node": "store-0042"})
    web = authorize(CLIENTS, "POST", "/holds/", "web-shop", "w1")
    assert node_refusal(web, {"node": "store-0043"}) is None


def test_the_peer_token_makes_a_peer_client_with_the_operator_scope_and_no_rate_of_its_own() -> None:
    from settings import Settings

    settings = Settings.from_env({"OMNI_PEER_TOKEN": "p-secret"})
    peer = settings.api_clients().get("peer")
    assert peer is not None and peer.scopes == {"operator"} and peer.holds_token("p-secret")
    assert (peer.rate_per_s or 0) > 1e6
    assert settings.peer_headers() == {"X-Client": "peer", "Authorization": "Bearer p-secret"}
    assert Settings.from_env({}).peer_headers() == {} and Settings.from_env({}).api_clients().get("peer") is None


def test_a_client_configured_twice_is_refused_not_merged() -> None:
    from settings import Settings

    with pytest.raises(ClientsError, match="configured twice"):
        Settings.from_env({"OMNI_LOYALTY_TOKENS": "till-001:x",
                           "OMNI_CLIENT_TOKENS": "till-001:y:till:store-0001"}).api_clients()
    with pytest.raises(ClientsError, match="configured twice"):
        clients_from_env("a:x:web,a:y:till:store-0001")


def test_the_peer_name_is_reserved_for_the_workers() -> None:
    with pytest.raises(ClientsError, match="reserved"):
        clients_from_env("peer:x:web")
    with pytest.raises(ClientsError, match="reserved"):
        clients_from_legacy({"peer": "x"})


def test_head_and_options_take_the_rule_of_the_get() -> None:
    assert authorize(CLIENTS, "HEAD", "/wallets/{customer_id}/", "", "").status == 401
    assert authorize(CLIENTS, "HEAD", "/wallets/{customer_id}/", "bo", "b1").allowed
    assert authorize(CLIENTS, "OPTIONS", "/holds/", "", "").status == 401


def test_a_till_committing_units_of_another_store_is_refused_and_one_naming_none_goes_to_the_view() -> None:
    from domain.access import node_refusal

    verdict = authorize(CLIENTS, "POST", "/holds/commit/", "till-42", "t42")
    assert node_refusal(verdict, {"hold_id": "h", "node": "store-0043", "quantity": 9}) is not None
    assert node_refusal(verdict, {"hold_id": "h", "node": "store-0042"}) is None
    assert node_refusal(verdict, {"hold_id": "h"}) is None
