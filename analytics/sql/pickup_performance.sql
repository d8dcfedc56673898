-- View: click and collect per pick-up store and day: orders that became ready (the saga
-- accepted them: every line held at the store), what became of them, the pick-up rate and the
-- time from ready to picked up.
create or replace view pickup_performance as
with milestones as (
    select order_id, milestone, delivery, node, occurred_at from fct_fulfillment
),

-- The store is the one the order names when placed (pinned, or the customer's chosen store);
-- a saga milestone names the order's first node.
orders as (
    select
        order_id,
        coalesce(any_value(node) filter (where milestone = 'placed'), any_value(node)) as node,
        min(occurred_at) filter (where milestone = 'accepted') as ready_at,
        min(occurred_at) filter (where milestone = 'picked_up') as picked_up_at,
        min(occurred_at) filter (where milestone = 'no_show') as no_show_at,
        min(occurred_at) filter (where milestone = 'cancelled') as cancelled_at
    from milestones
    group by order_id
    having bool_or(delivery = 'pick_up_in_store')
),

ready as (
    select
        node,
        cast(ready_at as date) as day,
        picked_up_at is not null as picked_up,
        picked_up_at is null and no_show_at is not null as not_collected,
        picked_up_at is null and no_show_at is null and cancelled_at is not null as cancelled,
        epoch(picked_up_at - ready_at) / 60.0 as minutes_to_pick_up
    from orders
    where ready_at is not null
),

final as (
    select
        node,
        day,
        count(*) as orders_ready,
        count(*) filter (where picked_up) as picked_up,
        count(*) filter (where not_collected) as not_collected,
        count(*) filter (where cancelled) as cancelled,
        count(*) filter (where not (picked_up or not_collected or cancelled)) as waiting,
        round(
            count(*) filter (where picked_up)
            / nullif(count(*) filter (where picked_up or not_collected or cancelled), 0), 4
        ) as pick_up_rate,
        round(median(minutes_to_pick_up), 1) as p50_minutes_to_pick_up,
        round(avg(minutes_to_pick_up), 1) as avg_minutes_to_pick_up
    from ready
    group by node, day
)

select * from final order by day, node;
