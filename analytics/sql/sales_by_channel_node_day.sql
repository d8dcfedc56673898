-- View: units and net sales by day, channel and node.
create or replace view sales_by_channel_node_day as
with lines as (
    select cast(occurred_at as date) as day, channel, node, quantity, net_cents
    from fct_sales_lines
),

final as (
    select
        day,
        channel,
        node,
        count(*) as lines,
        sum(quantity) as units,
        sum(net_cents) / 100.0 as net_sales
    from lines
    group by all
)

select * from final order by day, channel, node;
