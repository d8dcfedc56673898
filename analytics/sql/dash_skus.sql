-- Dashboard: SKUs for the stock picker, best sellers of the latest day first, then the rest.
with latest as (
    select max(day) as day from sales_by_channel_node_day
),

sold as (
    select sku, sum(quantity) as units_today
    from fct_sales_lines
    where cast(occurred_at as date) = (select day from latest)
    group by sku
),

stocked as (
    select sku, sum(on_hand) as on_hand from stock_on_hand group by sku
),

final as (
    select
        coalesce(stocked.sku, sold.sku) as sku,
        coalesce(sold.units_today, 0) as units_today,
        coalesce(stocked.on_hand, 0) as on_hand
    from stocked
    full outer join sold on sold.sku = stocked.sku
)

select * from final order by units_today desc, sku limit 500;
