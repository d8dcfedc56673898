-- Store balancing's inputs (`python -m analytics.balancing`): per SKU and node, the stock now
-- (`stock_by_node`) and the units that left to customers in the `$window_days` days up to `$as_of`
-- (till sales net of voids, online orders shipped or picked up there), with the node's kind by
-- the id convention (`dim_node`). Capacity and budget SKUs (`CAP-…`, `BUD-…`) are not goods and are left out.
with stock as (
    select sku, node, on_hand, atp, in_transit
    from stock_by_node
    where is_merchandise_sku(sku)
),

sold as (
    select sku, node, cast(-sum(on_hand_delta) as bigint) as units_sold
    from fct_stock_movements
    where kind in ('sale', 'void', 'hold_commit', 'unheld_commit')
        and is_merchandise_sku(sku)
        and occurred_at > cast($as_of as timestamptz) - to_days(cast($window_days as integer))
        and occurred_at <= cast($as_of as timestamptz)
    group by sku, node
),

positions as (
    select
        coalesce(stock.sku, sold.sku) as sku,
        coalesce(stock.node, sold.node) as node,
        coalesce(stock.on_hand, 0) as on_hand,
        stock.atp,
        coalesce(stock.in_transit, 0) as in_transit,
        greatest(coalesce(sold.units_sold, 0), 0) as units_sold
    from stock
    full outer join sold on sold.sku = stock.sku and sold.node = stock.node
),

final as (
    select
        positions.sku,
        positions.node,
        coalesce(dim_node.kind, 'other') as kind,
        positions.on_hand,
        positions.atp,
        positions.in_transit,
        positions.units_sold
    from positions
    left join dim_node on dim_node.node = positions.node
)

select * from final order by sku, node;
