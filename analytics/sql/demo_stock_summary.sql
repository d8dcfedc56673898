-- Demo answer: positions, units on hand and damaged, and positions below zero.
with positions as (
    select on_hand, damaged from stock_on_hand
),

final as (
    select
        count(*) as positions,
        sum(on_hand) as units_on_hand,
        sum(damaged) as units_damaged,
        count(*) filter (where on_hand < 0) as positions_below_zero
    from positions
)

select * from final;
