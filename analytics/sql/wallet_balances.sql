-- Each customer's balances as the sum of their ledger entries, and the programme's liability.
create or replace view wallet_balances as
with movements as (
    select customer_id, credit as account, points from fct_loyalty_entries
    union all
    select customer_id, debit as account, -points from fct_loyalty_entries
),

final as (
    select
        customer_id,
        sum(points) filter (where account = 'pending') as pending,
        sum(points) filter (where account = 'available') as available,
        sum(points) filter (where account = 'held') as held,
        sum(points) filter (where account = 'program:redeemed') as redeemed
    from movements
    group by customer_id
)

select
    customer_id,
    coalesce(pending, 0) as pending,
    coalesce(available, 0) as available,
    coalesce(held, 0) as held,
    coalesce(redeemed, 0) as redeemed,
    coalesce(pending, 0) + coalesce(available, 0) + coalesce(held, 0) as outstanding
from final;
