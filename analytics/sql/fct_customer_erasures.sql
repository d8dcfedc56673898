-- Customers erased on request (identity resolution forgot their identifiers): who, when, which
-- request. Only pseudonymous ids; the wallet and every other fact keep the customer id.
create table if not exists fct_customer_erasures (
    event_id               varchar not null primary key,
    customer_id            varchar not null,
    linked                 varchar[],          -- the customers it merged with, erased with it
    identifiers_forgotten  integer not null,   -- identifier records dropped by this customer's record
    request_event_id       varchar not null,   -- the customer.erasure_requested
    requested_at           timestamptz not null,
    occurred_at            timestamptz not null,
    projected_at           timestamptz not null
);
