-- Budget SKUs (domain/pricing/budgets.py): a promotion's budget (money in cents, a count of
-- baskets) and its coupon uses are positions of a reserved SKU `BUD-<16 hex>-<M|N|C>` at `chain`
-- or a store, in the stock ledger, availabilities and hold answers like any SKU. They are not
-- merchandise: the stock views leave them out, as they leave out capacity SKUs. The one place
-- SQL spells their naming; a unit test holds it to the Python module.
create or replace macro budget_prefix() as 'BUD-';

create or replace macro is_budget_sku(sku) as
    starts_with(sku, budget_prefix()) and regexp_full_match(sku, '^BUD-[0-9A-F]{16}-[MNC]$');

create or replace macro budget_kind(sku) as
    case when is_budget_sku(sku) then
        case right(sku, 1) when 'M' then 'money' when 'N' then 'count' when 'C' then 'coupon' end
    end;

-- Goods: neither a capacity slot nor a budget account.
create or replace macro is_merchandise_sku(sku) as not is_capacity_sku(sku) and not is_budget_sku(sku);
