-- View: sell-through per SKU and node over the whole ledger: units that left to customers
-- (till sales net of voids, online orders shipped or picked up) over those units plus what is
-- on hand now. 0.75 means three quarters of the stock that was there to sell has sold.
-- Merchandise only: capacity SKUs are left out.
create or replace view sell_through as
with flows as (
    select
        sku,
        node,
        coalesce(-sum(on_hand_delta) filter (where kind in ('sale', 'void', 'hold_commit', 'unheld_commit')), 0)
            as units_sold,
        coalesce(sum(on_hand_delta) filter (where kind = 'return'), 0)
            + coalesce(sum(damaged_delta) filter (where kind = 'return_damaged'), 0) as units_returned,
        arg_max(on_hand_after, movement_offset) as on_hand,
        min(occurred_at) as first_moved_at,
        max(occurred_at) as last_moved_at
    from fct_stock_movements
    where is_merchandise_sku(sku)
    group by sku, node
),

final as (
    select
        sku,
        node,
        units_sold,
        units_returned,
        on_hand,
        round(units_sold / nullif(units_sold + greatest(on_hand, 0), 0), 4) as sell_through,
        first_moved_at,
        last_moved_at
    from flows
)

select * from final order by sku, node;
