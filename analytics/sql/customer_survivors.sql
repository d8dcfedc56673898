-- Every customer that took part in a merge and the customer it is now: merges join customers
-- into groups, and a group is one customer, the one seen first (ties: the smaller id), which
-- is the wallet that holds the group's points.
create or replace view customer_survivors as
with recursive edges as (
    select merged as a, survivor as b from fct_customer_merges
    union
    select survivor as a, merged as b from fct_customer_merges
),

seen as (
    select merged as customer_id, min(merged_since) as since from fct_customer_merges group by merged
    union all
    select survivor as customer_id, min(survivor_since) as since from fct_customer_merges group by survivor
),

first_seen as (
    select customer_id, min(since) as since from seen group by customer_id
),

reach(customer_id, other) as (
    select a, a from edges
    union
    select reach.customer_id, edges.b from reach inner join edges on edges.a = reach.other
)

select
    reach.customer_id,
    arg_min(reach.other, (first_seen.since, reach.other)) as survivor
from reach
inner join first_seen on first_seen.customer_id = reach.other
group by reach.customer_id;
