-- Dashboard: till pricing variances per store and cause (pricing_variances), the largest variance
-- first: lines, what customers paid less and more, stale tills. The panel sums them by cause.
with final as (
    select
        store,
        cause,
        lines,
        round(variance_cents / 100, 2) as variance,
        round(paid_less_cents / 100, 2) as paid_less,
        round(paid_more_cents / 100, 2) as paid_more,
        stale_lines,
        max_versions_behind
    from pricing_variances
)

select * from final order by abs(variance) desc, store, cause;
