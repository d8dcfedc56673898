-- The stock ledger as the stock table applied it: one row per movement, position after it.
create table if not exists fct_stock_movements (
    movement_id     varchar not null primary key,
    sku             varchar not null,
    node            varchar not null,
    kind            varchar not null,
    on_hand_delta   integer not null,
    damaged_delta   integer not null,
    on_hand_after   integer not null,
    damaged_after   integer not null,
    cause_event_id  varchar not null,
    cause_type      varchar not null,
    movement_offset bigint  not null,   -- per SKU, a later offset is a later state
    occurred_at     timestamptz not null,
    projected_at    timestamptz not null,
    in_transit_delta integer not null default 0,  -- transit_in adds, transfer_in closes the expected units
    in_transit_after integer not null default 0,
    transfer_id     varchar,            -- on transfer movements
    variance        integer             -- on a transfer receipt: received - expected
);
-- Files created before transfers were tracked gain the columns in place.
alter table fct_stock_movements add column if not exists in_transit_delta integer default 0;
alter table fct_stock_movements add column if not exists in_transit_after integer default 0;
alter table fct_stock_movements add column if not exists transfer_id varchar;
alter table fct_stock_movements add column if not exists variance integer;
