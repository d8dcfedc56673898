-- One row per milestone of an online order: what the shop and the node did (web.orders: placed,
-- lines_cancelled, shipped, picked_up) and what the order saga decided (orders.status: accepted,
-- rejected, cancelled, no_show, hold_expired, stock_conflict, waiting).
create table if not exists fct_fulfillment (
    event_id     varchar not null,
    order_id     varchar not null,
    milestone    varchar not null,
    channel      varchar,            -- web | app, on `placed`
    delivery     varchar,            -- on `placed` and the saga's milestones
    node         varchar,            -- the fulfilment node (ships it, or the pick-up store); null: not named
    units        integer,            -- placed: ordered; lines_cancelled: cancelled; saga: still wanted
    reason       varchar,
    carrier      varchar,            -- on `shipped`
    placed_at    timestamptz,        -- on `placed` and the saga's milestones
    occurred_at  timestamptz not null,
    projected_at timestamptz not null,
    primary key (event_id, milestone)
);
-- Files created before the network could choose an order's node keep their rows.
alter table fct_fulfillment alter column node drop not null;
