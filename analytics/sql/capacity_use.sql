-- View: pick-and-pack capacity per node, method and one-hour slot, from the capacity SKUs'
-- positions: what the slot was opened with, what open plans hold, what shipments that left
-- used (their holds committed), what is free, and the share taken.
create or replace view capacity_use as
with ledger as (
    select
        sku,
        node,
        arg_max(on_hand_after, movement_offset) as on_hand,
        coalesce(-sum(on_hand_delta) filter (where kind in ('hold_commit', 'unheld_commit')), 0) as used,
        max(occurred_at) as last_moved_at
    from fct_stock_movements
    where is_capacity_sku(sku)
    group by sku, node
),

availability as (
    select
        sku,
        node,
        arg_max(on_hand, (projected_at, occurred_at, event_id)) as on_hand,
        arg_max(held, (projected_at, occurred_at, event_id)) as held
    from fct_availability
    where is_capacity_sku(sku)
    group by sku, node
),

positions as (
    select
        coalesce(ledger.sku, availability.sku) as sku,
        coalesce(ledger.node, availability.node) as node,
        coalesce(ledger.on_hand, availability.on_hand, 0) as on_hand,
        coalesce(ledger.used, 0) as used,
        coalesce(availability.held, 0) as held,
        ledger.last_moved_at
    from ledger
    full outer join availability on availability.sku = ledger.sku and availability.node = ledger.node
),

final as (
    select
        node,
        capacity_method(sku) as method,
        capacity_slot(sku) as slot_start,
        sku,
        on_hand + used as capacity,
        held,
        used,
        greatest(0, on_hand - held) as free,
        round((held + used) / nullif(on_hand + used, 0), 4) as utilisation,
        last_moved_at
    from positions
)

select * from final order by node, method, slot_start;
