-- Each online order's latest status (`waiting`: not held yet, sourced again later), and how long it
-- took from placing to that status.
create or replace view order_outcomes as
with ranked as (
    select
        *,
        row_number() over (partition by order_id order by occurred_at desc, status) as newest
    from fct_order_status
),

final as (
    select
        order_id,
        delivery,
        fulfilment_node,
        nodes,
        status,
        reason,
        units,
        placed_at,
        occurred_at as status_at,
        occurred_at - placed_at as placed_to_status
    from ranked
    where newest = 1
)

select * from final;
