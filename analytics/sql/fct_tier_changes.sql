-- One row per tier change of a customer, with the qualifying spend that explains it.
create table if not exists fct_tier_changes (
    event_id         varchar not null primary key,
    customer_id      varchar not null,   -- canonical, hashed-identifier based (cus-...)
    tier             varchar not null,
    previous         varchar not null,
    spend_cents      bigint not null,    -- qualifying spend of the 365 days ending as_of (net of returns)
    window_start     timestamptz not null,
    as_of            timestamptz not null,
    threshold_cents  bigint not null,    -- the new tier's threshold
    cause_id         varchar not null,   -- the wallet command that changed it
    projected_at     timestamptz not null
);
