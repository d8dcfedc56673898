-- One row per basket priced at checkout (pricing.baskets, BasketPriced): its totals, how many
-- promotions applied and were rejected, and the budget holds it placed. A quote, not a sale:
-- the sale or order that follows redeems (fct_promotion_uses).
create table if not exists fct_priced_baskets (
    event_id            varchar not null primary key,
    basket_id           varchar not null,
    channel             varchar not null,     -- web, app, store
    node                varchar not null,
    customer_id         varchar,
    snapshot_version    bigint not null,      -- the price book version it was priced with
    lines               integer not null,
    subtotal_cents      bigint not null,
    discount_cents      bigint not null,
    total_cents         bigint not null,
    bonus_points        bigint not null,
    promotions_applied  integer not null,
    promotions_rejected integer not null,
    holds               integer not null,     -- budget and coupon holds placed
    holds_refused       integer not null,     -- of those, answered other than granted
    priced_at           timestamptz not null, -- the pricing moment (`at`, else occurred_at)
    occurred_at         timestamptz not null,
    projected_at        timestamptz not null
);
