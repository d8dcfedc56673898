-- One row per published analyst snapshot: when it was cut and how fresh its newest records were.
-- Lag is the snapshot's publish time minus each record's event time (occurred_at), over the
-- records that first became queryable in it. The sink keeps a day of rows.
create table if not exists sink_status (
    published_at     timestamptz not null,   -- when the snapshot's content was cut (checkpoint)
    records          bigint      not null,   -- records committed since the previous snapshot
    lag_p50_ms       double,                 -- null when no record carried an event time
    lag_p99_ms       double,
    lag_max_ms       double,
    snapshot_ms      double,                 -- checkpoint + copy time of the previous snapshot
    interval_s       double      not null,   -- the interval in force (backs off as copies grow)
    primary key (published_at)
);
