-- Two customers found to be one (identity resolution): `merged` joined `survivor`.
create table if not exists fct_customer_merges (
    event_id        varchar not null primary key,
    merged          varchar not null,
    merged_since    timestamptz,
    survivor        varchar not null,
    survivor_since  timestamptz,
    identifier      varchar not null,   -- the hashed identifier both claimed
    occurred_at     timestamptz not null,
    projected_at    timestamptz not null
);
