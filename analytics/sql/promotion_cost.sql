-- View: what each promotion cost per day (fct_promotion_uses): discount given at redemption,
-- given back by returns and cancellations, net; bonus points; net uses; the baskets it applied
-- to at the till or online, and at checkout pricing (fct_basket_promotions). Days are the day
-- of the use (a return counts on the day it came back).
create or replace view promotion_cost as
with uses as (
    select *, cast(occurred_at as date) as day from fct_promotion_uses
),

redeemed as (
    select
        promotion_id,
        day,
        coalesce(sum(discount_cents) filter (where kind = 'redeemed'), 0) as discount_redeemed_cents,
        coalesce(-sum(discount_cents) filter (where kind = 'returned'), 0) as discount_returned_cents,
        sum(discount_cents) as discount_cents,
        sum(bonus_points) as bonus_points,
        sum(uses) as uses,
        count(distinct purchase_key) filter (where kind = 'redeemed') as baskets
    from uses
    group by promotion_id, day
),

quoted as (
    select promotion_id, cast(priced_at as date) as day, count(distinct basket_id) as priced_baskets
    from fct_basket_promotions
    where outcome = 'applied'
    group by promotion_id, day
),

final as (
    select
        coalesce(redeemed.promotion_id, quoted.promotion_id) as promotion_id,
        dim_promotion.name,
        coalesce(redeemed.day, quoted.day) as day,
        coalesce(redeemed.discount_redeemed_cents, 0) as discount_redeemed_cents,
        coalesce(redeemed.discount_returned_cents, 0) as discount_returned_cents,
        coalesce(redeemed.discount_cents, 0) as discount_cents,
        round(coalesce(redeemed.discount_cents, 0) / 100, 2) as discount,
        coalesce(redeemed.bonus_points, 0) as bonus_points,
        coalesce(redeemed.uses, 0) as uses,
        coalesce(redeemed.baskets, 0) as baskets,
        coalesce(quoted.priced_baskets, 0) as priced_baskets
    from redeemed
    full outer join quoted on quoted.promotion_id = redeemed.promotion_id and quoted.day = redeemed.day
    left join dim_promotion on dim_promotion.promotion_id = coalesce(redeemed.promotion_id, quoted.promotion_id)
)

select * from final order by day, promotion_id;
