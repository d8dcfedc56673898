-- Dashboard: the 20 most recent sourcing decisions, newest first: order, outcome, nodes, cost, km, retries.
with final as (
    select
        order_id,
        attempt,
        outcome,
        reason,
        method,
        nodes,
        round(cost_cents / 100, 2) as cost,
        round(km, 1) as km,
        retries,
        occurred_at as decided_at
    from fct_fulfilment_decisions
)

select * from final order by decided_at desc, order_id, attempt desc limit 20;
