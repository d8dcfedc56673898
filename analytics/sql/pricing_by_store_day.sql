-- View: per store and day, how its till sales were priced (fct_sale_pricing): the share that
-- carried a pricing stamp, the share of those priced offline, and how far behind the book the
-- tills were. A book version is an offset of pricing.book-entries (one record, one version), so
-- the latest version known at a sale is the count of book records (fct_book_entries) published
-- by then; versions behind = that minus the stamp's snapshot_version, never below zero.
create or replace view pricing_by_store_day as
with till_sales as (
    select event_id, any_value(node) as store, min(occurred_at) as occurred_at
    from fct_sales_lines
    where source_type = 'pos.sale'
    group by event_id
),

book_moments as (
    select occurred_at, count(*) as records
    from fct_book_entries
    group by occurred_at
),

book_versions as (
    select occurred_at, sum(records) over (order by occurred_at) as book_version
    from book_moments
),

sales as (
    select
        till_sales.store,
        cast(till_sales.occurred_at as date) as day,
        fct_sale_pricing.event_id is not null as stamped,
        coalesce(fct_sale_pricing.offline, false) as offline,
        coalesce(book_versions.book_version, 0) as book_version,
        -- greatest() skips nulls: an unstamped sale would count as 0 behind without the case
        case when fct_sale_pricing.event_id is not null
            then greatest(coalesce(book_versions.book_version, 0) - fct_sale_pricing.snapshot_version, 0)
        end as versions_behind
    from till_sales
    left join fct_sale_pricing using (event_id)
    asof left join book_versions on till_sales.occurred_at >= book_versions.occurred_at
),

final as (
    select
        day,
        store,
        count(*) as till_sales,
        count(*) filter (where stamped) as stamped_sales,
        round(count(*) filter (where stamped) / count(*), 4) as stamped_share,
        count(*) filter (where offline) as offline_sales,
        round(count(*) filter (where offline) / nullif(count(*) filter (where stamped), 0), 4) as offline_share,
        count(*) filter (where versions_behind > 0) as behind_sales,
        round(avg(versions_behind), 1) as avg_versions_behind,
        max(versions_behind) as max_versions_behind,
        max(book_version) as latest_book_version
    from sales
    group by day, store
)

select * from final order by day, store;
