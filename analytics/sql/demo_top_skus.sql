-- Demo answer: the five best-selling SKUs across every channel.
with lines as (
    select sku, quantity, net_cents from fct_sales_lines
),

final as (
    select sku, sum(quantity) as units, round(sum(net_cents) / 100.0, 2) as net_sales
    from lines
    group by sku
)

select * from final order by units desc, sku limit 5;
