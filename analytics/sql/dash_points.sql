-- Dashboard: the loyalty programme's outstanding points (its liability), the totals of the
-- analysts' outstanding_points view: every wallet counted under the customer that survives it.
with final as (
    select
        coalesce(sum(customers), 0) as wallets,
        coalesce(sum(pending), 0) as pending,
        coalesce(sum(available), 0) as available,
        coalesce(sum(held), 0) as held,
        coalesce(sum(outstanding), 0) as outstanding
    from outstanding_points
)

select * from final;
