-- One purchase history per customer across channels: lines as attributed, keyed by the
-- customer they belong to now (after merges). Returns count negative in `signed_*`.
create or replace view customer_purchase_history as
select
    coalesce(s.survivor, p.customer_id) as customer_id,
    p.customer_id as attributed_to,
    p.kind,
    p.purchase_key,
    p.channel,
    p.node,
    p.sku,
    p.quantity,
    p.net_cents,
    case when p.kind = 'return' then -p.quantity else p.quantity end as signed_quantity,
    case when p.kind = 'return' then -p.net_cents else p.net_cents end as signed_net_cents,
    p.occurred_at
from fct_customer_purchases as p
left join customer_survivors as s on s.customer_id = p.customer_id;
