-- View: documents (receipts, orders), units and net sales by day and channel.
create or replace view sales_by_channel_day as
with lines as (
    select cast(occurred_at as date) as day, channel, document_id, quantity, net_cents
    from fct_sales_lines
),

final as (
    select
        day,
        channel,
        count(distinct document_id) as documents,
        count(*) as lines,
        sum(quantity) as units,
        sum(net_cents) / 100.0 as net_sales
    from lines
    group by all
)

select * from final order by day, channel;
