-- One row per published analyst snapshot: when it was cut and how fresh its newest records were.
-- Over the records that first became queryable in it: lag is the snapshot's publish time minus
-- each record's append time on its source topic (the Kafka record timestamp), the pipeline's
-- delay; lateness is each event's append time minus its business time (occurred_at), how late
-- producers sent it (a replay or backfill is days late and still seconds behind). The sink keeps
-- a day of rows.
create table if not exists sink_status (
    published_at     timestamptz not null,   -- when the snapshot's content was cut (checkpoint)
    records          bigint      not null,   -- records committed since the previous snapshot
    lag_p50_ms       double,                 -- append time to queryable; null when no records
    lag_p99_ms       double,
    lag_max_ms       double,
    snapshot_ms      double,                 -- checkpoint + copy time of the previous snapshot
    interval_s       double      not null,   -- the interval in force (backs off as copies grow)
    lateness_p50_ms  double,                 -- occurred_at to append time; null when no event decoded
    lateness_p99_ms  double,
    lateness_max_ms  double,
    primary key (published_at)
);
