-- View: each SKU at each node now: on hand, damaged and in transit from its last ledger entry;
-- held, safety stock and available to promise (ATP) from the last availability published for
-- it; and how many holds are open there. Merchandise only: capacity SKUs are in capacity_use.
create or replace view stock_by_node as
with ledger as (
    select
        sku,
        node,
        arg_max(on_hand_after, movement_offset) as on_hand,
        arg_max(damaged_after, movement_offset) as damaged,
        arg_max(in_transit_after, movement_offset) as in_transit,
        max(occurred_at) as last_moved_at
    from fct_stock_movements
    where is_merchandise_sku(sku)
    group by sku, node
),

availability as (
    select
        sku,
        node,
        arg_max(on_hand, (projected_at, occurred_at, event_id)) as on_hand,
        arg_max(held, (projected_at, occurred_at, event_id)) as held,
        arg_max(safety, (projected_at, occurred_at, event_id)) as safety,
        arg_max(atp, (projected_at, occurred_at, event_id)) as atp,
        arg_max(in_transit, (projected_at, occurred_at, event_id)) as in_transit,
        arg_max(occurred_at, (projected_at, occurred_at, event_id)) as atp_as_of
    from fct_availability
    where is_merchandise_sku(sku)
    group by sku, node
),

-- A hold is open while every answer about it is `granted` (a partial release answers granted).
holds as (
    select hold_id, any_value(sku) as sku, any_value(node) as node
    from fct_holds
    where is_merchandise_sku(sku)
    group by hold_id
    having bool_and(answer = 'granted')
),

open_holds as (
    select sku, node, count(*) as open_holds from holds group by sku, node
),

final as (
    select
        coalesce(ledger.sku, availability.sku) as sku,
        coalesce(ledger.node, availability.node) as node,
        coalesce(ledger.on_hand, availability.on_hand) as on_hand,
        coalesce(ledger.damaged, 0) as damaged,
        coalesce(ledger.in_transit, availability.in_transit, 0) as in_transit,
        coalesce(availability.held, 0) as held,
        coalesce(availability.safety, 0) as safety,
        availability.atp,
        coalesce(open_holds.open_holds, 0) as open_holds,
        ledger.last_moved_at,
        availability.atp_as_of
    from ledger
    full outer join availability on availability.sku = ledger.sku and availability.node = ledger.node
    left join open_holds
        on open_holds.sku = coalesce(ledger.sku, availability.sku)
        and open_holds.node = coalesce(ledger.node, availability.node)
)

select * from final order by sku, node;
