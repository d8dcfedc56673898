"""views.owner.forward: a request for a key another worker owns goes there, or gets a 503 to retry."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import patch


class _View:
    def json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> tuple[Any, int, Any]:
        return body, status, headers


async def test_an_owner_that_does_not_answer_gives_a_503_to_retry_not_a_traceback() -> None:
    from views import owner

    request = SimpleNamespace(headers={}, rel_url=SimpleNamespace(path="/stock/SKU-00001/"))
    with patch.object(owner, "owner_of", return_value="http://127.0.0.1:9"), \
            patch.object(owner, "_me", return_value="http://127.0.0.1:6066"):
        body, status, headers = await owner.forward(_View(), request, "SKU-00001")  # type: ignore[arg-type]
    assert status == 503 and headers == {"Retry-After": "1"}
    assert "does not answer" in body["error"] and "127.0.0.1:9" in body["error"]


def test_is_mine_never_asks_a_table_for_its_length() -> None:
    """A Faust table's truth value is len(): on RocksDB it counts every key of every partition."""
    from tables.wallets import wallets_table
    from views import owner

    assignor = SimpleNamespace(is_active=lambda tp: True, key_store=lambda topic, key: "http://w2:6066/")
    with patch.object(type(wallets_table), "__len__", side_effect=AssertionError("counted the table")), \
            patch.object(owner, "app", SimpleNamespace(assignor=assignor)), \
            patch.object(owner, "settled", return_value=True):
        assert owner.is_mine("c-1", wallets_table)
        assert owner.owner_of("c-1", wallets_table) == "http://w2:6066"
