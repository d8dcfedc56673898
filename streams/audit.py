"""What the worker's HTTP API records about every request that changes something or is refused."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from streams.base import Event

Text = Annotated[str, Field(max_length=512)]


class HttpRequestAudited(Event):
    """A request to a route that changes state, or any refused request (401, 403, 429).

    `client` is who the caller said it is (`X-Client`), `authenticated` whether its token held;
    `route` the registered pattern, `path` the concrete one with e-mails and long digit runs
    masked. No request body is kept: what changed is on the domain topics, which this record's
    `request_id` and the answer's `status` tie it to. Each worker a request passes writes one
    (a request forwarded to the key's owner has two).
    """

    type: Literal["audit.http_request"] = "audit.http_request"
    request_id: Annotated[str, Field(min_length=1, max_length=64)]
    client: Annotated[str, Field(max_length=64)]  # "" when the caller named none
    authenticated: bool
    scopes: tuple[str, ...] = ()
    method: Annotated[str, Field(max_length=16)]
    route: Text  # "" when no route matched
    path: Text
    status: int = Field(ge=100, le=599)
    reason: Text = ""  # why it was refused, or the error's message
    remote: Annotated[str, Field(max_length=64)] = ""
    duration_ms: float = Field(ge=0, le=3_600_000)
