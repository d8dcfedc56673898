"""The HTTP audit in the sink's facts and views: rows in, rows out on DuckDB, dated from a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analytics.rows import FACT_TABLES
from analytics.sink import FACT_SOURCES
from streams.audit import HttpRequestAudited
from streams.topics import AUDIT_REQUESTS
from tests.unit.fulfilment_factories import model, project

AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def audited(n: int, status: int, client: str = "till-7", scopes: tuple[str, ...] = ("till",),
            route: str = "/holds/", at: datetime = AT, reason: str = "") -> HttpRequestAudited:
    return HttpRequestAudited(
        event_id=f"audit-{n}", occurred_at=at, source_node="web", request_id=f"rq-{n}", client=client,
        authenticated=bool(scopes), scopes=scopes, method="POST", route=route, path=route, status=status,
        reason=reason, remote="127.0.0.1", duration_ms=1.5)


def test_the_sink_reads_the_audit_topic_into_fct_http_request() -> None:
    assert AUDIT_REQUESTS in FACT_SOURCES and "fct_http_request" in FACT_TABLES


def test_an_audited_request_projected_twice_is_stored_once_with_client_scopes_route_and_status() -> None:
    con = model()
    events = [audited(1, 201, scopes=("till", "web")), audited(2, 401, client="nobody", scopes=(), reason="no token")]
    project(con, events)
    project(con, events)
    rows = con.execute("select event_id, client, authenticated, scopes, method, route, status, reason "
                       "from fct_http_request order by event_id").fetchall()
    assert rows == [("audit-1", "till-7", True, ["till", "web"], "POST", "/holds/", 201, ""),
                    ("audit-2", "nobody", False, [], "POST", "/holds/", 401, "no token")]


def test_refusals_are_counted_per_day_client_route_and_status_and_granted_requests_are_not() -> None:
    con = model()
    later = AT + timedelta(hours=1)
    project(con, [
        audited(1, 201),
        audited(2, 401, client="nobody", scopes=(), reason="first"),
        audited(3, 401, client="nobody", scopes=(), at=later, reason="latest"),
        audited(4, 403, client="web-1", scopes=("web",), route="/pricing/leases/", reason="needs till"),
        audited(5, 429, at=AT + timedelta(days=1), reason="over its rate"),
    ])
    rows = con.execute("select day, client, route, status, requests, first_at, last_at, last_reason "
                       "from http_refusals").fetchall()
    day = AT.date()
    assert rows == [
        (day + timedelta(days=1), "till-7", "/holds/", 429, 1, AT + timedelta(days=1), AT + timedelta(days=1),
         "over its rate"),
        (day, "nobody", "/holds/", 401, 2, AT, later, "latest"),
        (day, "web-1", "/pricing/leases/", 403, 1, AT, AT, "needs till"),
    ]
