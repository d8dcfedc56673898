-- One row per shipment of a sourcing decision's plan (fulfilment.decisions): what one node
-- sends or hands over, in which capacity slot, when it is ready and promised, and its cost.
create table if not exists fct_fulfilment_shipments (
    order_id        varchar not null,
    attempt         bigint not null,        -- the decision's attempt
    shipment_no     integer not null,       -- 1, 2, ... in the plan's order
    node            varchar not null,
    method          varchar not null,       -- ship, same_day, pickup
    lines           integer not null,
    units           integer not null,
    slot_start      timestamptz not null,   -- the capacity slot it is picked and packed in
    ready_at        timestamptz not null,
    promised_at     timestamptz not null,   -- when the customer was promised it
    km              double not null,
    cost_cents      bigint not null,
    capacity_units  bigint not null,        -- capacity it takes in the slot
    occurred_at     timestamptz not null,   -- the decision's time
    projected_at    timestamptz not null,
    primary key (order_id, attempt, shipment_no)
);
