-- Records the pipeline refused, with why and where they came from. The raw bytes stay in Kafka
-- (`<topic>.dlq`, the operator's to read); here only their size, digest and a preview with personal
-- data masked (analytics/redaction.py).
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
    raw_sha256        varchar,            -- SHA-256 of the raw bytes, hex
    preview           varchar,            -- the record with personal data masked, first 400 characters
    primary key (dlq_topic, dlq_partition, dlq_offset)
);
-- databases made before the digest and preview existed
alter table dead_letters add column if not exists raw_sha256 varchar;
alter table dead_letters add column if not exists preview varchar;
