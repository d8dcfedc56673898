-- View: each promotion's uplift (dim_promotion, fct_sales_lines): units a day of its SKUs sold
-- during its window against the same SKUs in as many days just before it (the baseline), chain
-- wide, every channel. Its SKUs are those its conditions list, and those whose category
-- (fct_product_descriptions, latest) it lists; a promotion with neither covers every SKU sold.
-- A window still running is measured up to the newest sale. Drafts are never live: left out.
create or replace view uplift as
with as_of as (
    select max(occurred_at) as moment from fct_sales_lines
),

windows as (
    select
        promotion_id,
        name,
        skus,
        categories,
        starts_at,
        ends_at,
        least(ends_at, (select moment from as_of)) as measured_to,
        greatest(epoch(least(ends_at, (select moment from as_of))) - epoch(starts_at), 0) / 86400.0 as days
    from dim_promotion
    where status <> 'draft'
),

categories as (
    select sku, arg_max(category, (occurred_at, event_id)) as category
    from fct_product_descriptions
    group by sku
),

promotion_skus as (
    select promotion_id, unnest(skus) as sku from windows
    union
    select windows.promotion_id, categories.sku
    from windows
    inner join categories on list_contains(windows.categories, categories.category)
    union
    select windows.promotion_id, sold.sku
    from windows
    cross join (select distinct sku from fct_sales_lines) as sold
    where len(windows.skus) = 0 and len(windows.categories) = 0
),

sold as (
    select
        promotion_skus.promotion_id,
        coalesce(sum(lines.quantity) filter (
            where lines.occurred_at >= windows.starts_at and lines.occurred_at < windows.ends_at), 0) as units_during,
        coalesce(sum(lines.quantity) filter (
            where lines.occurred_at >= windows.starts_at - to_seconds(cast(windows.days * 86400 as bigint))
                and lines.occurred_at < windows.starts_at), 0) as units_before
    from promotion_skus
    inner join windows on windows.promotion_id = promotion_skus.promotion_id
    inner join fct_sales_lines as lines on lines.sku = promotion_skus.sku
    group by promotion_skus.promotion_id
),

sku_counts as (
    select promotion_id, count(*) as skus from promotion_skus group by promotion_id
),

final as (
    select
        windows.promotion_id,
        windows.name,
        windows.starts_at,
        windows.ends_at,
        round(windows.days, 2) as days,
        coalesce(sku_counts.skus, 0) as skus,
        coalesce(sold.units_during, 0) as units_during,
        coalesce(sold.units_before, 0) as units_before,
        round(coalesce(sold.units_during, 0) / nullif(windows.days, 0), 2) as units_per_day_during,
        round(coalesce(sold.units_before, 0) / nullif(windows.days, 0), 2) as units_per_day_before,
        round(sold.units_during / nullif(sold.units_before, 0) - 1, 4) as uplift
    from windows
    left join sold on sold.promotion_id = windows.promotion_id
    left join sku_counts on sku_counts.promotion_id = windows.promotion_id
)

select * from final order by promotion_id;
