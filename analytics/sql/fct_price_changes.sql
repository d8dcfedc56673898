-- One row per price change head office published (pricing.changes), central or for one store.
create table if not exists fct_price_changes (
    event_id        varchar not null primary key,
    sku             varchar not null,
    node            varchar,            -- null: the central price, every node
    price_cents     bigint not null,
    effective_from  timestamptz not null,
    occurred_at     timestamptz not null,
    projected_at    timestamptz not null
);
