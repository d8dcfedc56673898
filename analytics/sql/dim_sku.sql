-- Every SKU seen in any fact, with its central price now (the latest central price change in
-- effect), when that price took effect, and when the SKU was first and last seen. Merchandise
-- only: the capacity SKUs of the stock facts are left out.
create or replace view dim_sku as
with sightings as (
    select sku, occurred_at from fct_sales_lines
    union all
    select sku, occurred_at from fct_return_lines
    union all
    select sku, occurred_at from fct_stock_movements
    union all
    select sku, occurred_at from fct_holds
    union all
    select sku, occurred_at from fct_availability
    union all
    select sku, occurred_at from fct_price_changes
    union all
    select sku, occurred_at from fct_customer_purchases
),

skus as (
    select sku, min(occurred_at) as first_seen_at, max(occurred_at) as last_seen_at
    from sightings
    where is_merchandise_sku(sku)
    group by sku
),

-- "Now" is the wall clock, or the newest price change if the data runs ahead of it (a
-- simulated day in the future): a change announced for later is not in effect yet.
as_of as (
    select greatest(now(), coalesce(max(occurred_at), now())) as moment from fct_price_changes
),

central as (
    select
        sku,
        arg_max(price_cents, (effective_from, occurred_at, event_id)) as central_price_cents,
        max(effective_from) as price_since
    from fct_price_changes
    where node is null and effective_from <= (select moment from as_of)
    group by sku
),

final as (
    select
        skus.sku,
        central.central_price_cents,
        central.price_since,
        skus.first_seen_at,
        skus.last_seen_at
    from skus
    left join central on central.sku = skus.sku
)

select * from final order by sku;
