-- Demo answer: the loyalty programme by tier: live customers, their outstanding points (the
-- liability) and their purchase history across channels (after merges, net of returns).
with tiers as (
    select customer_id, tier from customer_tiers
),

points as (
    select customer_id, outstanding from wallet_balances
),

history as (
    select
        customer_id,
        count(distinct purchase_key) filter (where kind = 'purchase') as purchases,
        count(distinct channel) as channels,
        sum(signed_net_cents) as net_cents
    from customer_purchase_history
    group by customer_id
),

final as (
    select
        tiers.tier,
        count(*) as customers,
        coalesce(sum(points.outstanding), 0) as outstanding_points,
        coalesce(sum(history.purchases), 0) as purchases,
        count(*) filter (where history.channels > 1) as multichannel_customers,
        round(coalesce(sum(history.net_cents), 0) / 100, 2) as net_spend
    from tiers
    left join points on points.customer_id = tiers.customer_id
    left join history on history.customer_id = tiers.customer_id
    group by tiers.tier
    order by tiers.tier
)

select * from final;
