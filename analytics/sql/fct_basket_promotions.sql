-- One row per promotion a priced basket applied or rejected (pricing.baskets, BasketPriced's
-- `applied` and `rejected`): which promotions checkout quotes carry, and why others did not apply.
create table if not exists fct_basket_promotions (
    event_id      varchar not null,
    promotion_id  varchar not null,
    outcome       varchar not null,     -- applied | rejected
    reason        varchar,              -- a rejection's reason (domain/pricing/basket.py REASONS)
    basket_id     varchar not null,
    channel       varchar not null,
    node          varchar not null,
    priced_at     timestamptz not null,
    occurred_at   timestamptz not null,
    projected_at  timestamptz not null,
    primary key (event_id, outcome, promotion_id)
);
