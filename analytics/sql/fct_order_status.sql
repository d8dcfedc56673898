-- One row per status an online order reached (the order saga's answers on orders.status).
-- An order reaches each status at most once; its first row is accepted or rejected.
create table if not exists fct_order_status (
    event_id         varchar not null primary key,   -- <order id>:<status>
    order_id         varchar not null,
    status           varchar not null,   -- accepted, rejected, cancelled, shipped, picked_up, no_show, hold_expired, stock_conflict
    reason           varchar not null,
    delivery         varchar not null,   -- ship_to_address, pick_up_in_store, same_day
    fulfilment_node  varchar not null,
    lines            integer not null,   -- SKUs of the order
    units            integer not null,   -- units still wanted at this status
    placed_at        timestamptz not null,
    occurred_at      timestamptz not null,
    projected_at     timestamptz not null
);
