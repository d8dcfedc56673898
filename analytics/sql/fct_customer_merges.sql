-- Two customers found to be one (identity resolution): `merged` joined `survivor`.
create table if not exists fct_customer_merges (
    event_id        varchar not null primary key,
    merged          varchar not null,
    merged_since    timestamptz,
    survivor        varchar not null,
    survivor_since  timestamptz,
    identifier      varchar,            -- the hashed identifier both claimed; null once either is erased
    occurred_at     timestamptz not null,
    projected_at    timestamptz not null
);
-- databases made before erasure
alter table fct_customer_merges alter column identifier drop not null;
