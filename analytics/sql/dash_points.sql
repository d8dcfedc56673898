-- Dashboard: the loyalty programme's outstanding points (its liability) over surviving wallets;
-- a wallet merged into another is left out (its points moved to the survivor by ledger transfer).
with merged_away as (
    select customer_id from customer_survivors where survivor <> customer_id
),

live as (
    select * from wallet_balances
    where customer_id not in (select customer_id from merged_away)
),

final as (
    select
        count(*) as wallets,
        coalesce(sum(pending), 0) as pending,
        coalesce(sum(available), 0) as available,
        coalesce(sum(held), 0) as held,
        coalesce(sum(outstanding), 0) as outstanding
    from live
)

select * from final;
