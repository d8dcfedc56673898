-- One row per status an online order reached (the order saga's answers on orders.status).
-- An order reaches each status at most once; its first row is accepted, rejected or waiting.
create table if not exists fct_order_status (
    event_id         varchar not null primary key,   -- <order id>:<status>
    order_id         varchar not null,
    status           varchar not null,   -- accepted, rejected, cancelled, shipped, picked_up, no_show, hold_expired, stock_conflict, waiting
    reason           varchar not null,
    delivery         varchar not null,   -- ship_to_address, pick_up_in_store, same_day
    fulfilment_node  varchar,            -- the order's (first) node; null while the network has chosen none
    lines            integer not null,   -- SKUs of the order
    units            integer not null,   -- units still wanted at this status
    placed_at        timestamptz not null,
    occurred_at      timestamptz not null,
    projected_at     timestamptz not null,
    nodes            varchar[]           -- every node of a split order, as the status names them (may be empty)
);
-- Files created before orders could be split or wait for the network to choose keep their rows.
alter table fct_order_status alter column fulfilment_node drop not null;
alter table fct_order_status add column if not exists nodes varchar[];
