-- View: the loyalty liability per tier: points customers hold and may still redeem (pending,
-- available and held), each wallet counted under the customer it belongs to now (after merges)
-- and that customer's current tier. The sum over tiers is the programme's liability.
create or replace view outstanding_points as
with wallets as (
    select
        coalesce(survivors.survivor, balances.customer_id) as customer_id,
        balances.pending,
        balances.available,
        balances.held
    from wallet_balances as balances
    left join customer_survivors as survivors on survivors.customer_id = balances.customer_id
),

customers as (
    select
        customer_id,
        sum(pending) as pending,
        sum(available) as available,
        sum(held) as held
    from wallets
    group by customer_id
),

final as (
    select
        coalesce(tiers.tier, 'base') as tier,
        count(*) as customers,
        count(*) filter (where customers.pending + customers.available + customers.held > 0) as customers_with_points,
        sum(customers.pending) as pending,
        sum(customers.available) as available,
        sum(customers.held) as held,
        sum(customers.pending + customers.available + customers.held) as outstanding
    from customers
    left join customer_tiers as tiers on tiers.customer_id = customers.customer_id
    group by all
)

select * from final order by tier;
