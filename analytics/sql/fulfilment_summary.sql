-- View: sourcing per day: orders given a plan, how many were split, what a plan costs and how
-- far it goes, the warehouses' share of the units, same-day orders, how many plans left their
-- nodes by the time promised, and the day's re-sourcings, rejections and waits.
create or replace view fulfilment_summary as
with decisions as (
    select *, cast(occurred_at as date) as day from fct_fulfilment_decisions
),

-- An order's plan in force: its latest decision, when that one planned it (or it was pinned).
plans as (
    select *
    from decisions
    qualify row_number() over (partition by order_id order by attempt desc) = 1
        and outcome in ('planned', 'pinned')
),

shipments as (
    select shipments.*
    from fct_fulfilment_shipments as shipments
    inner join plans on plans.order_id = shipments.order_id and plans.attempt = shipments.attempt
),

-- When each shipment left its node: the order's first shipped or picked_up milestone there, or
-- one that names no node (every node of the order).
left_nodes as (
    select
        shipments.order_id,
        shipments.promised_at,
        min(milestones.occurred_at) as left_at
    from shipments
    left join fct_fulfillment as milestones
        on milestones.order_id = shipments.order_id
        and milestones.milestone in ('shipped', 'picked_up')
        and (milestones.node = shipments.node or milestones.node is null)
    group by shipments.order_id, shipments.shipment_no, shipments.promised_at
),

-- Known once every shipment has left; met when each left at or before its promised_at.
promises as (
    select order_id, bool_and(left_at is not null) as known, bool_and(left_at <= promised_at) as met
    from left_nodes
    group by order_id
),

units as (
    select
        shipments.order_id,
        sum(shipments.units) as units,
        coalesce(sum(shipments.units) filter (where nodes.kind = 'warehouse'), 0) as warehouse_units
    from shipments
    left join dim_node as nodes on nodes.node = shipments.node
    group by shipments.order_id
),

planned as (
    select
        plans.day,
        count(*) as orders_sourced,
        count(*) filter (where plans.outcome = 'pinned') as pinned,
        count(*) filter (where plans.shipments > 1) as split_orders,
        round(avg(plans.cost_cents) / 100, 2) as cost_per_order,
        round(avg(plans.km), 1) as km_per_order,
        coalesce(sum(units.units), 0) as units,
        coalesce(sum(units.warehouse_units), 0) as warehouse_units,
        count(*) filter (where plans.method = 'same_day') as same_day_orders,
        count(*) filter (where promises.known) as promise_known,
        count(*) filter (where promises.known and promises.met) as promise_met
    from plans
    left join units on units.order_id = plans.order_id
    left join promises on promises.order_id = plans.order_id
    group by plans.day
),

decided as (
    select
        day,
        count(*) as decisions,
        count(*) filter (where attempt > 1) as resourcings,
        count(*) filter (where outcome = 'rejected') as rejections,
        count(*) filter (where outcome = 'waiting') as waits
    from decisions
    group by day
),

final as (
    select
        decided.day,
        decided.decisions,
        coalesce(planned.orders_sourced, 0) as orders_sourced,
        coalesce(planned.pinned, 0) as pinned,
        coalesce(planned.split_orders, 0) as split_orders,
        round(planned.split_orders / nullif(planned.orders_sourced, 0), 4) as split_rate,
        planned.cost_per_order,
        planned.km_per_order,
        coalesce(planned.units, 0) as units,
        round(planned.warehouse_units / nullif(planned.units, 0), 4) as warehouse_share,
        round(planned.same_day_orders / nullif(planned.orders_sourced, 0), 4) as same_day_share,
        coalesce(planned.promise_known, 0) as promise_known,
        round(planned.promise_met / nullif(planned.promise_known, 0), 4) as promise_met_share,
        decided.resourcings,
        decided.rejections,
        decided.waits
    from decided
    left join planned on planned.day = decided.day
)

select * from final order by day;
