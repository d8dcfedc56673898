-- One row per day from the first to the last day of the data (sales, stock, orders, loyalty,
-- fraud), with ISO week, month and weekday. Days are dates in the session's time zone, like
-- every `cast(occurred_at as date)` in the other views.
create or replace view dim_calendar as
with moments as (
    select occurred_at from fct_sales_lines
    union all
    select occurred_at from fct_stock_movements where is_merchandise_sku(sku)
    union all
    select occurred_at from fct_fulfillment
    union all
    select occurred_at from fct_loyalty_entries
    union all
    select window_end as occurred_at from fct_fraud_alerts
),

span as (
    select cast(min(occurred_at) as date) as first_day, cast(max(occurred_at) as date) as last_day from moments
),

days as (
    select cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as day
    from span
    where first_day is not null
),

final as (
    select
        day,
        isoyear(day) as iso_year,
        week(day) as iso_week,
        year(day) as year,
        quarter(day) as quarter,
        month(day) as month,
        monthname(day) as month_name,
        isodow(day) as weekday,
        dayname(day) as weekday_name,
        isodow(day) in (6, 7) as is_weekend
    from days
)

select * from final order by day;
