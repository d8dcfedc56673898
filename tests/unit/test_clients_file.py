"""The clients file's changes (domain.clients_file) and its CLI (ops.tokens): digests only, 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from domain import clients_file
from domain.access import ClientsError, authorize, clients_from_json, digest
from ops import tokens


def test_an_added_client_is_accepted_with_its_token_and_the_file_holds_only_its_digest() -> None:
    doc = clients_file.add(clients_file.empty(), "till-42", ["till"], "s3cret-token", "store-0042", 50)
    text = clients_file.dump(doc)
    assert "s3cret-token" not in text and digest("s3cret-token") in text
    clients = clients_from_json(text)
    verdict = authorize(clients, "POST", "/pricing/leases/", "till-42", "s3cret-token")
    assert verdict.allowed and verdict.client is not None
    assert (verdict.client.store, verdict.client.rate_per_s) == ("store-0042", 50.0)


def test_adding_a_client_twice_or_a_till_without_its_store_or_an_unknown_scope_is_refused() -> None:
    doc = clients_file.add(clients_file.empty(), "web", ["web"], "t1")
    with pytest.raises(ClientsError, match="already"):
        clients_file.add(doc, "web", ["web"], "t2")
    with pytest.raises(ClientsError, match="store"):
        clients_file.add(doc, "till-1", ["till"], "t3")
    with pytest.raises(ClientsError, match="unknown scopes"):
        clients_file.add(doc, "x", ["admin"], "t4")


def test_a_rotated_client_holds_the_old_and_the_new_token_until_the_old_digest_is_revoked() -> None:
    doc = clients_file.rotate(clients_file.add(clients_file.empty(), "web", ["web"], "old"), "web", "new")
    both = clients_from_json(clients_file.dump(doc)).get("web")
    assert both is not None and both.holds_token("old") and both.holds_token("new")
    doc = clients_file.revoke(doc, "web", digest("old")[:12])
    left = clients_from_json(clients_file.dump(doc)).get("web")
    assert left is not None and not left.holds_token("old") and left.holds_token("new")
    with pytest.raises(ClientsError, match="every token"):
        clients_file.revoke(doc, "web", digest("new")[:12])


def test_a_revoked_client_is_gone_and_the_listing_shows_no_secret() -> None:
    doc = clients_file.add(clients_file.add(clients_file.empty(), "a", ["web"], "ta"), "b", ["operator"], "tb")
    doc = clients_file.revoke(doc, "a")
    listed = clients_file.listing(doc)
    assert [e["client"] for e in listed] == ["b"]
    assert listed == [{"client": "b", "scopes": ["operator"], "store": None, "rate_per_s": None,
                       "tokens": [digest("tb")[:12]]}]


def test_the_cli_prints_a_token_once_and_writes_a_0600_file_the_worker_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "clients.json"
    assert tokens.main(["add", "till-7", "--scopes", "till", "--store", "store-0007", "--file", str(path)]) == 0
    token = capsys.readouterr().out.strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and token not in path.read_text()
    assert authorize(clients_from_json(path.read_text()), "POST", "/pricing/leases/", "till-7", token).allowed
    assert tokens.main(["rotate", "till-7", "--file", str(path)]) == 0
    second = capsys.readouterr().out.strip()
    client = clients_from_json(path.read_text()).get("till-7")
    assert client is not None and client.holds_token(token) and client.holds_token(second)
    assert tokens.main(["revoke", "till-7", "--file", str(path)]) == 0
    assert tokens.main(["list", "--file", str(path)]) == 0
    assert capsys.readouterr().out == ""
    assert tokens.main(["rotate", "nobody", "--file", str(path)]) == 1
