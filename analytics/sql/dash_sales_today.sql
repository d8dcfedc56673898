-- Dashboard: sales by channel on the latest day that has sales ("today" in a live system).
with latest as (
    select max(day) as day from sales_by_channel_node_day
),

final as (
    select
        day,
        channel,
        sum(lines) as lines,
        sum(units) as units,
        sum(net_sales) as net_sales,
        count(distinct node) as nodes
    from sales_by_channel_node_day
    where day = (select day from latest)
    group by day, channel
)

select * from final order by net_sales desc, channel;
