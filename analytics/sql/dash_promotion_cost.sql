-- Dashboard: the 10 promotions that cost most over the 7 days up to the latest day with uses
-- ("today" in a live system): net discount and uses that day and over the 7 days, baskets, points.
with latest as (
    select max(day) as day from promotion_cost
),

week as (
    select *
    from promotion_cost
    where day > (select day from latest) - 7 and day <= (select day from latest)
),

final as (
    select
        promotion_id,
        any_value(name) as name,
        (select day from latest) as day,
        round(coalesce(sum(discount_cents) filter (where day = (select day from latest)), 0) / 100, 2) as discount_today,
        coalesce(sum(uses) filter (where day = (select day from latest)), 0) as uses_today,
        round(sum(discount_cents) / 100, 2) as discount_7d,
        sum(uses) as uses_7d,
        sum(baskets) as baskets_7d,
        sum(bonus_points) as bonus_points_7d
    from week
    group by promotion_id
)

select * from final order by discount_7d desc, promotion_id limit 10;
