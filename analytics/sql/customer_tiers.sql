-- Each live customer's tier: the latest change on its wallet (customers merged away are left
-- out: their tier is the survivor's); customers whose wallet never changed tier are base.
create or replace view customer_tiers as
with latest as (
    select customer_id, arg_max(tier, as_of) as tier, arg_max(spend_cents, as_of) as spend_cents, max(as_of) as as_of
    from fct_tier_changes
    group by customer_id
),

live as (
    select customer_id from wallet_balances
    where customer_id not in (select merged from fct_customer_merges)
)

select
    live.customer_id,
    coalesce(latest.tier, 'base') as tier,
    latest.spend_cents,
    latest.as_of as tier_since
from live
left join latest on latest.customer_id = live.customer_id;
