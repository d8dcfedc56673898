-- View: refused requests to the workers' HTTP API per day, client, route and status: who calls
-- without a valid token (401), outside its scopes (403) or over its rate (429).
create or replace view http_refusals as
with refused as (
    select
        cast(occurred_at as date) as day,
        client,
        authenticated,
        method,
        route,
        status,
        reason,
        occurred_at
    from fct_http_request
    where status in (401, 403, 429)
),

final as (
    select
        day,
        client,
        authenticated,
        method,
        route,
        status,
        count(*) as requests,
        min(occurred_at) as first_at,
        max(occurred_at) as last_at,
        arg_max(reason, occurred_at) as last_reason
    from refused
    group by all
)

select * from final
order by day desc, requests desc, client, route
