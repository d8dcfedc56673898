-- Every promotion in the price book at its latest version (fct_promotion_versions), with how
-- many versions it had and when it was first published.
create or replace view dim_promotion as
with versions as (
    select
        *,
        count(*) over (partition by promotion_id) as versions,
        min(occurred_at) over (partition by promotion_id) as first_published_at
    from fct_promotion_versions
),

final as (
    select
        promotion_id,
        version,
        versions,
        name,
        status,
        kind,
        target,
        promotion_group,
        priority,
        starts_at,
        ends_at,
        skus,
        categories,
        channels,
        nodes,
        budget_money_cents,
        budget_count,
        budget_scope,
        budget_period,
        coupon_codes,
        coupon_uses_total,
        coupon_uses_per_code,
        coupon_per_customer,
        first_published_at,
        occurred_at as published_at
    from versions
    qualify row_number() over (partition by promotion_id order by version desc) = 1
)

select * from final order by promotion_id;
