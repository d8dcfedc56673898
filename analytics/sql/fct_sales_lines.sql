-- One row per sold line, from till sales (channel 'store') and online orders ('web', 'app').
create table if not exists fct_sales_lines (
    event_id          varchar not null,
    line_no           integer not null,
    source_type       varchar not null,   -- pos.sale | order.placed
    channel           varchar not null,   -- store | web | app
    document_id       varchar not null,   -- receipt_id or order_id
    node              varchar not null,   -- selling store, or fulfilment node online
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
