"""The HTTP audit's projection: one fct_http_request row per audited request. Pure; `analytics.rows` dispatches here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from streams.audit import HttpRequestAudited

Row = dict[str, Any]


def http_request(event: HttpRequestAudited, projected_at: datetime) -> dict[str, list[Row]]:
    row = event.model_dump(exclude={"source_node", "schema_version", "type"})
    return {"fct_http_request": [{**row, "scopes": list(event.scopes), "projected_at": projected_at}]}
