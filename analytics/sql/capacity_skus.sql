-- Capacity SKUs (domain/fulfilment/capacity.py): a node's pick-and-pack capacity for one method
-- in one one-hour slot is a position of a reserved SKU `CAP-<node digest>-<S|D|P>-<YYMMDDHH>`
-- (the slot's start in UTC) at that node, in the stock ledger, availabilities and hold answers
-- like any SKU. They are not merchandise: the stock views leave them out, capacity_use reads
-- them. The one place SQL spells their naming; a unit test holds it to the Python module.
create or replace macro capacity_prefix() as 'CAP-';

create or replace macro is_capacity_sku(sku) as starts_with(sku, capacity_prefix());

create or replace macro capacity_method(sku) as
    case split_part(sku, '-', 3) when 'S' then 'ship' when 'D' then 'same_day' when 'P' then 'pickup' end;

create or replace macro capacity_slot(sku) as timezone('UTC', strptime(split_part(sku, '-', 4), '%y%m%d%H'));
