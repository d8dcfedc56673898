-- One row per returned line, at the store where it was handed in.
create table if not exists fct_return_lines (
    event_id             varchar not null,
    line_no              integer not null,
    return_id            varchar not null,
    node                 varchar not null,
    original_receipt_id  varchar,
    original_node        varchar,
    sku                  varchar not null,
    quantity             integer not null,
    refund_cents         bigint  not null,
    condition            varchar not null,
    occurred_at          timestamptz not null,
    projected_at         timestamptz not null,
    primary key (event_id, line_no)
);
