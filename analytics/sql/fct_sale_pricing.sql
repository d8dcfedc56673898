-- One row per stamped till sale or online order (pos.transactions, web.orders: the `pricing`
-- stamp of PosSale and OrderPlaced): the book version and the context it was priced in, and
-- what its promotions gave in all. Joins fct_sales_lines on event_id, fct_promotion_uses on
-- purchase_key. An unstamped sale or order has no row.
create table if not exists fct_sale_pricing (
    event_id          varchar not null primary key,  -- the sale or order (fct_sales_lines.event_id)
    purchase_key      varchar not null,   -- <store>/<receipt_id> or the order id, as the pricing stage keys it
    source_type       varchar not null,   -- pos.sale | order.placed
    document_id       varchar not null,   -- receipt_id or order_id
    node              varchar,            -- as fct_sales_lines.node
    basket_id         varchar not null,
    snapshot_version  bigint  not null,   -- the price book version it was priced with
    channel           varchar not null,   -- store | web | app: the context priced for
    tier              varchar,
    customer_id       varchar,
    region            varchar,
    currency          varchar not null,
    coupon_codes      varchar[] not null,
    offline           boolean not null,   -- a till priced it without the centre
    promotions        varchar[] not null, -- ids of the promotions applied, in stamp order
    discount_cents    bigint  not null,   -- the promotions' discounts added up
    bonus_points      bigint  not null,
    budget_uses       integer not null,   -- budget and coupon uses of all its promotions
    occurred_at       timestamptz not null,
    projected_at      timestamptz not null
);
