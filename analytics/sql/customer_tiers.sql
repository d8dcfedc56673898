-- Each live customer's tier: the last change its wallet made, in the wallet's log order (command
-- times may arrive out of order, e.g. a return dated before a purchase applied earlier).
-- Customers merged away are left out (their tier is the survivor's); a wallet that never
-- changed tier is base.
create or replace view customer_tiers as
with latest as (
    select
        customer_id,
        arg_max(tier, struct_pack(o := coalesce(command_offset, -1), t := as_of)) as tier,
        arg_max(spend_cents, struct_pack(o := coalesce(command_offset, -1), t := as_of)) as spend_cents,
        arg_max(as_of, struct_pack(o := coalesce(command_offset, -1), t := as_of)) as as_of
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
