-- One row per answer the stock authority gave about a hold (inventory.hold-answers): the hold's
-- state after a place, commit, release or expiry. A hold is open while its answers are all granted.
create table if not exists fct_holds (
    event_id     varchar not null primary key,   -- <command id>:<hold id>: a re-sent answer is one row
    hold_id      varchar not null,   -- <order id>/<sku>
    order_id     varchar,            -- null on an `unknown` answer
    sku          varchar not null,
    node         varchar,            -- where the units are held; null on an `unknown` answer
    quantity     integer not null,   -- units the hold promises (smaller after a partial release)
    answer       varchar not null,   -- granted, rejected, committed, released, expired, unknown
    reason       varchar,            -- why it was rejected, released or expired, or the commit's cause
    atp_after    integer not null,   -- available to promise at the node after this answer
    command_id   varchar not null,   -- the hold command (or expiry) that caused the answer
    occurred_at  timestamptz not null,
    projected_at timestamptz not null
);
