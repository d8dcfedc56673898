-- View: on hand and damaged per SKU and node, from the last ledger entry of each position
-- (merchandise: capacity SKUs are left out).
create or replace view stock_on_hand as
with ranked as (
    select
        sku,
        node,
        on_hand_after,
        damaged_after,
        occurred_at,
        row_number() over (partition by sku, node order by movement_offset desc) as rn
    from fct_stock_movements
    where is_merchandise_sku(sku)
),

final as (
    select sku, node, on_hand_after as on_hand, damaged_after as damaged, occurred_at as last_moved_at
    from ranked
    where rn = 1
)

select * from final;
