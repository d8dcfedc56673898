-- Dashboard: sourcing on the latest day with decisions ("today" in a live system), the
-- analysts' fulfilment_summary row for that day.
with latest as (
    select max(day) as day from fulfilment_summary
),

final as (
    select * from fulfilment_summary where day = (select day from latest)
)

select * from final;
