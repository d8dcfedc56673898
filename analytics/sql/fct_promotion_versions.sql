-- One row per version of a promotion in the price book (pricing.book-entries, PromotionDefined):
-- its rule, window, budget and coupon limits, flattened. dim_promotion keeps the latest.
create table if not exists fct_promotion_versions (
    promotion_id          varchar not null,
    version               bigint not null,
    name                  varchar not null,
    status                varchar not null,     -- draft, active, ended
    kind                  varchar not null,     -- the reward: percent_off, amount_off, fixed_price, ...
    target                varchar not null,     -- items, order, shipping
    promotion_group       varchar not null,     -- how it stacks (PromotionGroupDefined)
    priority              integer not null,
    starts_at             timestamptz not null,
    ends_at               timestamptz not null,
    skus                  varchar[] not null,   -- condition: SKUs that qualify (empty: any)
    categories            varchar[] not null,   -- condition: categories that qualify (empty: any)
    channels              varchar[] not null,
    nodes                 varchar[] not null,
    tiers                 varchar[] not null,
    min_basket_cents      bigint not null,
    min_quantity          integer not null,
    percent               integer,
    amount_cents          bigint,
    price_cents           bigint,
    threshold_cents       bigint,
    points                bigint not null,
    points_per_unit       bigint not null,
    budget_money_cents    bigint,               -- null: no money limit
    budget_count          bigint,               -- null: no count limit
    budget_scope          varchar,              -- global, store, customer (null: no budget)
    budget_period         varchar,              -- all, day, week, month
    coupon_codes          integer not null,     -- codes that unlock it (0: no coupon needed)
    coupon_uses_total     bigint,
    coupon_uses_per_code  bigint,
    coupon_per_customer   bigint,
    event_id              varchar not null,
    occurred_at           timestamptz not null, -- when this version was published
    projected_at          timestamptz not null,
    primary key (promotion_id, version)
);
