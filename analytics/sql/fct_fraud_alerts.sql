-- One row per fraud alert (topic fraud.alerts): a rule saw a pattern for one entity in a window.
-- An alert's id derives from its rule, entity and first evidence event: a replay never adds a row.
create table if not exists fct_fraud_alerts (
    alert_id      varchar not null,
    rule          varchar not null,   -- redemption_velocity, return_without_purchase, return_above_value,
                                      -- buy_earn_return, linked_accounts, cashier_exceptions, till_price_below_central
    severity      varchar not null,   -- low | medium | high
    entity_kind   varchar not null,   -- customer | identifier | cashier | store | device
    entity_id     varchar not null,   -- hashed for customers and identifiers; never a raw phone or email
    window_start  timestamptz not null,
    window_end    timestamptz not null,
    summary       varchar not null,   -- one line a person can read
    evidence      json not null,      -- the events that make the pattern: ids, times, amounts
    raised_at     timestamptz not null,
    projected_at  timestamptz not null,
    primary key (alert_id)
);
