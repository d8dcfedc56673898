-- The promotion backtest's baskets (`python -m analytics.promotion_backtest`): every sold line of
-- the till sales and online orders in the `$days` days up to the newest sale, a basket per sale or
-- order event, with the context its pricing stamp names (fct_sale_pricing: tier, customer, coupon
-- codes, region, currency; null when it carried none). BasketPriced carries no lines, so the sales
-- facts are the baskets. An online order the network sources has no node yet: it is priced at its
-- channel's name.
with as_of as (
    select max(occurred_at) as moment from fct_sales_lines
),

lines as (
    select *
    from fct_sales_lines
    where occurred_at > (select moment from as_of) - to_days(cast($days as integer))
        and occurred_at <= (select moment from as_of)
),

final as (
    select
        lines.event_id,
        lines.document_id,
        lines.channel,
        coalesce(lines.node, lines.channel) as node,
        lines.has_customer,
        lines.occurred_at,
        lines.line_no,
        lines.sku,
        lines.quantity,
        fct_sale_pricing.event_id is not null as stamped,
        fct_sale_pricing.tier,
        fct_sale_pricing.customer_id,
        fct_sale_pricing.coupon_codes,
        fct_sale_pricing.region,
        fct_sale_pricing.currency
    from lines
    left join fct_sale_pricing using (event_id)
)

select * from final order by occurred_at, event_id, line_no;
