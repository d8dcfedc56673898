-- The next Kafka offset to read per source partition, committed with the rows it covers.
create table if not exists sink_offsets (
    topic       varchar not null,
    partition   integer not null,
    next_offset bigint  not null,
    updated_at  timestamptz not null,
    primary key (topic, partition)
);
