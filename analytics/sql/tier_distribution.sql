-- How many live customers hold each tier.
create or replace view tier_distribution as
select tier, count(*) as customers
from customer_tiers
group by tier;
