-- One row per loyalty ledger entry (double entry: points leave `debit`, arrive in `credit`).
-- Customer ids are canonical and hashed-identifier based (cus-...): no raw identifiers here.
create table if not exists fct_loyalty_entries (
    entry_id      varchar not null,   -- derived from its cause: never posted twice to a wallet
    customer_id   varchar not null,
    debit         varchar not null,   -- pending, available, held or program:*
    credit        varchar not null,
    points        integer not null,
    cause         varchar not null,   -- earn, mature, clawback, hold, capture, void, expire_hold, expire_lot, merge
    cause_id      varchar not null,
    command_id    varchar not null,
    occurred_at   timestamptz not null,
    projected_at  timestamptz not null,
    primary key (customer_id, entry_id)  -- two tills' customers may use one request id
);
