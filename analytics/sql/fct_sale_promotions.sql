-- One row per promotion a stamped till sale or online order applied (the stamp's `promotions`):
-- its version, what it gave and what it took from its budget and coupon accounts, by hold
-- (online) or lease (offline).
create table if not exists fct_sale_promotions (
    event_id          varchar not null,   -- the sale or order (fct_sale_pricing, fct_sales_lines)
    promotion_id      varchar not null,
    purchase_key      varchar not null,   -- <store>/<receipt_id> or the order id (fct_promotion_uses)
    version           bigint  not null,   -- PromotionChanged books its ms timestamp as the version
    channel           varchar not null,
    node              varchar,
    discount_cents    bigint  not null,
    bonus_points      bigint  not null,
    lines             integer not null,   -- lines it has a share of
    budget_uses       integer not null,   -- budget and coupon accounts it drew on
    budget_via        varchar,            -- hold | lease | mixed; null without budget uses
    offline           boolean not null,
    occurred_at       timestamptz not null,
    projected_at      timestamptz not null,
    primary key (event_id, promotion_id)
);
