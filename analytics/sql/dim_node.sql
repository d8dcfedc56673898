-- Every node seen in any fact, with its kind from the id conventions (st-* store, wh-*
-- warehouse, web and app the online channels, head-office) and when it was first and last seen.
create or replace view dim_node as
with sightings as (
    select node, occurred_at from fct_sales_lines where node is not null
    union all
    select channel as node, occurred_at from fct_sales_lines where channel in ('web', 'app')
    union all
    select node, occurred_at from fct_return_lines
    union all
    select node, occurred_at from fct_stock_movements
    union all
    select fulfilment_node as node, occurred_at from fct_order_status where fulfilment_node is not null
    union all
    select unnest(nodes) as node, occurred_at from fct_order_status
    union all
    select node, occurred_at from fct_fulfillment where node is not null
    union all
    select node, occurred_at from fct_holds where node is not null
    union all
    select node, occurred_at from fct_availability
    union all
    select node, occurred_at from fct_price_changes where node is not null
    union all
    select node, occurred_at from fct_customer_purchases
),

final as (
    select
        node,
        case
            when node like 'st-%' then 'store'
            when node like 'wh-%' then 'warehouse'
            when node in ('web', 'app') then 'web'
            when node = 'head-office' then 'head_office'
            else 'other'
        end as kind,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from sightings
    group by node
)

select * from final order by node;
