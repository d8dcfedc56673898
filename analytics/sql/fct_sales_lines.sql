-- One row per sold line, from till sales (channel 'store') and online orders ('web', 'app').
create table if not exists fct_sales_lines (
    event_id          varchar not null,
    line_no           integer not null,
    source_type       varchar not null,   -- pos.sale | order.placed
    channel           varchar not null,   -- store | web | app
    document_id       varchar not null,   -- receipt_id or order_id
    node              varchar,            -- selling store; online the node the order names (null: the network chooses)
    delivery          varchar,            -- null in store; ship_to_address | pick_up_in_store | same_day
    sku               varchar not null,
    quantity          integer not null,
    unit_price_cents  bigint  not null,
    discount_cents    bigint  not null,
    net_cents         bigint  not null,
    has_customer      boolean not null,
    occurred_at       timestamptz not null,
    projected_at      timestamptz not null,
    primary key (event_id, line_no)
);
-- Files created before the network could choose an online order's node keep their rows.
alter table fct_sales_lines alter column node drop not null;
