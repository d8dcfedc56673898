-- One row per version of a node of the fulfilment network (fulfilment.network-versions,
-- NodeDefined): what it is, where, what it does and its capacity per one-hour slot.
create table if not exists fct_node_versions (
    node_id            varchar not null,
    version            bigint not null,
    effective_from     timestamptz not null,
    kind               varchar not null,     -- store, warehouse, dark_store, head_office
    name               varchar not null,
    lat                double not null,
    lon                double not null,
    postcode           varchar not null,
    timezone           varchar not null,
    methods            varchar[] not null,   -- ship, same_day, pickup: what it does for online orders
    ship_per_hour      integer,              -- capacity per slot; null: none defined for the method
    ship_unit          varchar,              -- orders or units
    same_day_per_hour  integer,
    same_day_unit      varchar,
    pickup_per_hour    integer,
    pickup_unit        varchar,
    prep_minutes       integer not null,     -- from slot start to ready
    protected_units    integer not null,     -- per SKU, kept for walk-in customers
    active             boolean not null,
    event_id           varchar not null,
    occurred_at        timestamptz not null,
    projected_at       timestamptz not null,
    primary key (node_id, version)
);
