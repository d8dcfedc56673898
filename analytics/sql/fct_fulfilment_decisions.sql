-- One row per sourcing decision (fulfilment.decisions): an order's plan, or why it has none,
-- and what finding it took. An order's attempts count up: a later attempt re-sourced it.
create table if not exists fct_fulfilment_decisions (
    order_id           varchar not null,
    attempt            bigint not null,      -- 1 for the first decision; higher: re-sourced
    event_id           varchar not null,
    outcome            varchar not null,     -- planned, rejected, pinned (the order named its node), waiting
    reason             varchar not null,
    method             varchar not null,     -- ship, same_day, pickup
    promise            varchar not null,     -- standard, express, same_day
    profile_id         varchar not null,     -- the sourcing profile that compared the plans
    profile_version    bigint not null,
    costs_version      bigint not null,
    shipments          integer not null,     -- shipments of the plan (more than one: a split order)
    nodes              varchar[] not null,   -- the plan's nodes in shipment order
    units              integer not null,     -- units planned
    cost_cents         bigint not null,      -- the plan's cost: shipping, handling, split penalty
    km                 double not null,
    retries            bigint not null,
    candidates_scored  bigint not null,      -- candidate plans scored
    eliminated         integer not null,     -- nodes ruled out, each with its reason
    excluded           varchar[] not null,   -- node or sku@node ruled out by earlier attempts
    decide_ms          double not null,      -- time the decision took
    occurred_at        timestamptz not null,
    projected_at       timestamptz not null,
    primary key (order_id, attempt)
);
