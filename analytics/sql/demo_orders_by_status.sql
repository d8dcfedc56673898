-- Demo answer: online orders by their latest status and delivery mode.
with outcomes as (
    select status, delivery from order_outcomes
),

final as (
    select status, delivery, count(*) as orders
    from outcomes
    group by status, delivery
    order by orders desc, status, delivery
)

select * from final;
