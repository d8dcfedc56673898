-- View: each promotion's uses (fct_promotion_uses): redeemed, given back whole, returned in part,
-- net; and the net discount. One row for the promotion (`level` 'promotion'), one per channel
-- ('channel') and one per channel and store or node ('node'); a column that does not apply to
-- the level is null.
create or replace view redemptions as
with uses as (
    select
        promotion_id,
        channel,
        node,
        customer_id,
        purchase_key,
        discount_cents,
        greatest(uses, 0) as redeemed,
        greatest(-uses, 0) as returned,
        kind = 'returned' and uses = 0 as partly_returned
    from fct_promotion_uses
),

grouped as (
    select
        promotion_id,
        channel,
        node,
        grouping(channel, node) as grouped_away,
        sum(redeemed) as redeemed,
        sum(returned) as returned,
        count(*) filter (where partly_returned) as partly_returned,
        sum(redeemed) - sum(returned) as net_uses,
        sum(discount_cents) as discount_cents,
        count(distinct purchase_key) as purchases,
        count(distinct customer_id) as customers
    from uses
    group by grouping sets ((promotion_id), (promotion_id, channel), (promotion_id, channel, node))
),

final as (
    select
        grouped.promotion_id,
        dim_promotion.name,
        case grouped.grouped_away when 3 then 'promotion' when 1 then 'channel' else 'node' end as level,
        grouped.channel,
        grouped.node,
        grouped.redeemed,
        grouped.returned,
        grouped.partly_returned,
        grouped.net_uses,
        grouped.discount_cents,
        grouped.purchases,
        grouped.customers
    from grouped
    left join dim_promotion on dim_promotion.promotion_id = grouped.promotion_id
)

select * from final order by promotion_id, channel nulls first, node nulls first;
