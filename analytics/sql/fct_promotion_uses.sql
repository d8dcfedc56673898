-- One row per promotion use booked or given back (pricing.promotion-uses, PromotionUsed): what
-- promotion cost, redemptions and budget burn add up. A return gives back a negative discount.
create table if not exists fct_promotion_uses (
    event_id          varchar not null primary key,
    purchase_key      varchar not null,     -- receipt id of a till sale, order id of an online order
    promotion_id      varchar not null,
    version           bigint not null,      -- the promotion's version that applied
    kind              varchar not null,     -- redeemed | returned
    channel           varchar not null,     -- web, app, store
    node              varchar not null,
    customer_id       varchar,
    discount_cents    bigint not null,      -- negative when given back
    bonus_points      bigint not null,
    uses              integer not null,     -- +1 redeemed; -1 a whole use given back; else 0
    offline           boolean not null,     -- a till priced it without the centre (from a lease)
    snapshot_version  bigint not null,
    occurred_at       timestamptz not null,
    projected_at      timestamptz not null
);
