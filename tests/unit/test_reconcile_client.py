"""Reconcile calls the worker as this process's client (OMNI_HTTP_*), else the first deprecated loyalty pair."""

from __future__ import annotations

from analytics import reconcile
from settings import Settings


def test_reconcile_sends_its_own_http_client_before_a_deprecated_loyalty_pair() -> None:
    both = Settings.from_env({"OMNI_HTTP_CLIENT": "reconcile", "OMNI_HTTP_TOKEN": "t1",
                              "OMNI_LOYALTY_TOKENS": "a-web:t2"})
    assert reconcile._token_headers(both) == {"X-Client": "reconcile", "Authorization": "Bearer t1"}
    legacy = Settings.from_env({"OMNI_LOYALTY_TOKENS": "b-web:t3,a-web:t2"})
    assert reconcile._token_headers(legacy) == {"X-Client": "a-web", "Authorization": "Bearer t2"}
    assert reconcile._token_headers(Settings.from_env({})) == {}
