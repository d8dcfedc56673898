-- Demo answer: units and net sales per channel.
with lines as (
    select channel, quantity, net_cents from fct_sales_lines
),

final as (
    select channel, count(*) as lines, sum(quantity) as units, round(sum(net_cents) / 100.0, 2) as net_sales
    from lines
    group by channel
)

select * from final order by net_sales desc;
