-- The unified purchase history: one row per purchased or returned line, from every channel,
-- attributed to the customer identity resolution found (hashed customer keys only).
-- customer_id is the customer as attributed; customer_purchase_history maps it to the survivor.
create table if not exists fct_customer_purchases (
    event_id         varchar not null,
    line_no          integer not null,
    customer_id      varchar not null,
    kind             varchar not null,   -- purchase (a till sale, or an online order once shipped / picked up) or return
    purchase_key     varchar not null,   -- <store>/<receipt id> or order/<order id>
    source_event_id  varchar not null,   -- the sale, order or return event
    channel          varchar not null,   -- store, web, app (of the purchase)
    node             varchar not null,   -- where it was bought, or where it came back
    sku              varchar not null,
    quantity         integer not null,
    net_cents        bigint not null,    -- net value of the units (positive for returns too)
    occurred_at      timestamptz not null,
    projected_at     timestamptz not null,
    primary key (event_id, line_no)
);
