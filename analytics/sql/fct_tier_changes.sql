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
    command_offset   bigint,             -- that command's offset in the wallet's log: orders a customer's changes
    projected_at     timestamptz not null
);
-- Files created before command_offset existed get it (null on their older rows).
alter table fct_tier_changes add column if not exists command_offset bigint;
