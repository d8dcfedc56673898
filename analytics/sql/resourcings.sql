-- View: every re-sourcing (a decision with attempt > 1) and why the order was decided again:
-- the decision before it, what its nodes answered since (a rejection, a short pick), which
-- holds the stock authority refused since (stock, or a capacity slot), and what was excluded.
create or replace view resourcings as
with decisions as (
    select
        order_id,
        attempt,
        outcome,
        reason,
        nodes,
        excluded,
        occurred_at,
        lag(outcome) over (partition by order_id order by attempt) as previous_outcome,
        lag(nodes) over (partition by order_id order by attempt) as previous_nodes,
        lag(occurred_at) over (partition by order_id order by attempt) as previous_at
    from fct_fulfilment_decisions
),

resourced as (
    select * from decisions where attempt > 1
),

-- What happened between the previous decision and this one.
responses as (
    select
        resourced.order_id,
        resourced.attempt,
        count(responses.event_id) as store_responses,
        arg_max(responses.response, responses.occurred_at) as last_response,
        arg_max(responses.node || ' ' || responses.response || ': ' || responses.reason, responses.occurred_at)
            as store_response
    from resourced
    left join fct_store_responses as responses
        on responses.order_id = resourced.order_id
        and (resourced.previous_at is null or responses.occurred_at >= resourced.previous_at)
        and responses.occurred_at <= resourced.occurred_at
    group by resourced.order_id, resourced.attempt
),

refusals as (
    select
        resourced.order_id,
        resourced.attempt,
        count(holds.event_id) filter (where is_merchandise_sku(holds.sku)) as stock_refused,
        count(holds.event_id) filter (where is_capacity_sku(holds.sku)) as capacity_refused
    from resourced
    left join fct_holds as holds
        on holds.order_id = resourced.order_id
        and holds.answer = 'rejected'
        and (resourced.previous_at is null or holds.occurred_at >= resourced.previous_at)
        and holds.occurred_at <= resourced.occurred_at
    group by resourced.order_id, resourced.attempt
),

final as (
    select
        resourced.order_id,
        resourced.attempt,
        case
            when responses.last_response = 'rejected' then 'store_rejected'
            when responses.last_response = 'short_pick' then 'short_pick'
            when refusals.capacity_refused > 0 then 'capacity_refused'
            when refusals.stock_refused > 0 then 'stock_refused'
            when resourced.previous_outcome = 'waiting' then 'was_waiting'
            else 'other'
        end as cause,
        resourced.outcome,
        resourced.reason,
        resourced.nodes,
        resourced.previous_outcome,
        resourced.previous_nodes,
        responses.store_responses,
        responses.store_response,
        refusals.stock_refused,
        refusals.capacity_refused,
        resourced.excluded,
        resourced.previous_at as previous_decided_at,
        resourced.occurred_at as decided_at
    from resourced
    inner join responses on responses.order_id = resourced.order_id and responses.attempt = resourced.attempt
    inner join refusals on refusals.order_id = resourced.order_id and refusals.attempt = resourced.attempt
)

select * from final order by decided_at, order_id, attempt;
