-- View: till lines charged other than the centre's re-price (fct_pricing_variances), per store
-- and cause: lines, receipts, units, the variance in all, what customers paid less and more; and
-- how stale the tills' price books were: versions behind the centre (centre - till snapshot
-- version) on average and at most, and the lines whose till was behind.
create or replace view pricing_variances as
with lines as (
    select
        *,
        centre_snapshot_version - till_snapshot_version as versions_behind
    from fct_pricing_variances
),

final as (
    select
        store,
        cause,
        count(*) as lines,
        count(distinct receipt_id) as receipts,
        sum(quantity) as units,
        sum(variance_cents) as variance_cents,
        coalesce(-sum(variance_cents) filter (where variance_cents < 0), 0) as paid_less_cents,
        coalesce(sum(variance_cents) filter (where variance_cents > 0), 0) as paid_more_cents,
        count(*) filter (where till_snapshot_version is null) as unstamped_lines,
        count(*) filter (where versions_behind > 0) as stale_lines,
        round(avg(versions_behind), 1) as avg_versions_behind,
        max(versions_behind) as max_versions_behind,
        min(till_snapshot_version) as oldest_till_snapshot_version,
        max(centre_snapshot_version) as centre_snapshot_version,
        min(occurred_at) as first_at,
        max(occurred_at) as last_at
    from lines
    group by store, cause
)

select * from final order by store, cause;
