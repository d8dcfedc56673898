-- Every node seen in any fact or defined in the fulfilment network, with its kind: the
-- network's own (the node's highest version in fct_node_versions), else, for a node never
-- defined, guessed from the id conventions (st-* store, wh-* warehouse, web and app the online
-- channels, head-office); `kind_source` says which. And when it was first and last seen.
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
    union all
    select node, occurred_at from fct_fulfilment_shipments
    union all
    select node, occurred_at from fct_store_responses
    union all
    select from_node as node, occurred_at from fct_transfer_suggestions
    union all
    select to_node as node, occurred_at from fct_transfer_suggestions
    union all
    select node_id as node, occurred_at from fct_node_versions
),

seen as (
    select node, min(occurred_at) as first_seen_at, max(occurred_at) as last_seen_at
    from sightings
    group by node
),

network as (
    select
        node_id as node,
        arg_max(kind, version) as kind,
        arg_max(name, version) as name,
        arg_max(active, version) as active
    from fct_node_versions
    group by node_id
),

final as (
    select
        seen.node,
        coalesce(
            network.kind,
            case
                when seen.node like 'st-%' then 'store'
                when seen.node like 'wh-%' then 'warehouse'
                when seen.node in ('web', 'app') then 'web'
                when seen.node = 'head-office' then 'head_office'
                else 'other'
            end
        ) as kind,
        case when network.node is null then 'guessed' else 'network' end as kind_source,
        network.name,
        network.active,
        seen.first_seen_at,
        seen.last_seen_at
    from seen
    left join network on network.node = seen.node
)

select * from final order by node;
