-- Every customer seen in any fact, by canonical hashed id (cus-...) only, never a raw phone or
-- email: the customer it is now after merges (`survivor_id`), that customer's tier, and when
-- the id was first and last seen.
create or replace view dim_customer as
with sightings as (
    select customer_id, occurred_at from fct_customer_purchases
    union all
    select customer_id, occurred_at from fct_loyalty_entries
    union all
    select customer_id, as_of as occurred_at from fct_tier_changes
    union all
    select merged as customer_id, coalesce(merged_since, occurred_at) as occurred_at from fct_customer_merges
    union all
    select survivor as customer_id, coalesce(survivor_since, occurred_at) as occurred_at from fct_customer_merges
),

customers as (
    select customer_id, min(occurred_at) as first_seen_at, max(occurred_at) as last_seen_at
    from sightings
    group by customer_id
),

final as (
    select
        customers.customer_id,
        coalesce(survivors.survivor, customers.customer_id) as survivor_id,
        coalesce(survivors.survivor, customers.customer_id) = customers.customer_id as is_survivor,
        coalesce(tiers.tier, 'base') as tier,
        tiers.tier_since,
        customers.first_seen_at,
        customers.last_seen_at
    from customers
    left join customer_survivors as survivors on survivors.customer_id = customers.customer_id
    left join customer_tiers as tiers on tiers.customer_id = coalesce(survivors.survivor, customers.customer_id)
)

select * from final order by customer_id;
