-- One row per node's answer to an assignment (fulfilment.store-responses): it rejected it
-- whole, or picked fewer units than planned; the order saga re-sources what is missing.
create table if not exists fct_store_responses (
    event_id      varchar not null primary key,
    order_id      varchar not null,
    node          varchar not null,
    response      varchar not null,     -- rejected, short_pick
    lines         integer not null,     -- short_pick: lines with units missing
    units         integer not null,     -- short_pick: units missing
    skus          varchar[] not null,   -- short_pick: the SKUs missing
    reason        varchar not null,
    occurred_at   timestamptz not null,
    projected_at  timestamptz not null
);
