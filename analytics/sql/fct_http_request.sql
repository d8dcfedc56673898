-- One row per audited request to a worker's HTTP API (audit.http-requests, HttpRequestAudited):
-- every request to a route that changes state, and every refused one (401, 403, 429, 503).
create table if not exists fct_http_request (
    event_id       varchar not null primary key,
    request_id     varchar not null,          -- the X-Request-Id, or one the worker minted
    client         varchar not null,          -- who the caller said it is (X-Client); '' when none
    authenticated  boolean not null,          -- whether its token held
    scopes         varchar[] not null,        -- the client's scopes; empty when not authenticated
    method         varchar not null,
    route          varchar not null,          -- the registered pattern; '' when no route matched
    path           varchar not null,          -- the concrete path
    status         integer not null,          -- the answer's status
    reason         varchar not null,          -- why it was refused, or the error; '' when none
    remote         varchar not null,          -- the caller's address
    duration_ms    double not null,
    occurred_at    timestamptz not null,
    projected_at   timestamptz not null
);
