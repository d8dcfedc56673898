-- The promotion backtest's baskets (`python -m analytics.promotion_backtest`): every sold line of
-- the till sales and online orders in the `$days` days up to the newest sale, a basket per
-- receipt or order. BasketPriced carries no lines, so the sales facts are the baskets. An online
-- order the network sources has no node yet: it is priced at its channel's name.
with as_of as (
    select max(occurred_at) as moment from fct_sales_lines
),

final as (
    select
        document_id,
        channel,
        coalesce(node, channel) as node,
        has_customer,
        occurred_at,
        line_no,
        sku,
        quantity
    from fct_sales_lines
    where occurred_at > (select moment from as_of) - to_days(cast($days as integer))
        and occurred_at <= (select moment from as_of)
)

select * from final order by occurred_at, document_id, line_no;
