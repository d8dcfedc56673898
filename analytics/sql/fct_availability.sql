-- One row per availability the stock authority published for one SKU at one node
-- (inventory.availabilities, after every movement or hold command there): the newest per
-- position is its current on hand, held, safety and available to promise.
create table if not exists fct_availability (
    event_id     varchar not null primary key,   -- <command id>:<node>
    sku          varchar not null,
    node         varchar not null,
    on_hand      integer not null,
    held         integer not null,   -- units promised to open holds
    safety       integer not null,   -- units never promised
    atp          integer not null,   -- greatest(0, on_hand - held - safety)
    in_transit   integer not null,   -- units shipped to the node, not yet received
    occurred_at  timestamptz not null,   -- the time of the command that changed it
    projected_at timestamptz not null    -- the sink reads a position's records in order: later is newer
);
