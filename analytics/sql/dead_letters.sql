-- Records the pipeline refused, with why and where they came from (raw bytes stay in Kafka).
create table if not exists dead_letters (
    dlq_topic         varchar not null,
    dlq_partition     integer not null,
    dlq_offset        bigint  not null,
    source_topic      varchar not null,
    source_partition  integer not null,
    source_offset     bigint  not null,
    reason            varchar not null,
    consumer          varchar not null,
    raw_bytes         integer not null,
    failed_at         timestamptz not null,
    primary key (dlq_topic, dlq_partition, dlq_offset)
);
