-- Dashboard: budgeted promotions by how much of a budget they have burnt, most first (at most
-- 10): each promotion's most burnt account (budget_burn), money or count, and whether any is exhausted.
with accounts as (
    select
        *,
        greatest(coalesce(money_burnt, 0), coalesce(count_burnt, 0)) as burnt
    from budget_burn
),

final as (
    select
        promotion_id,
        any_value(name) as name,
        any_value(budget_scope) as budget_scope,
        any_value(budget_period) as budget_period,
        arg_max(scope_key, (burnt, period_key)) as scope_key,
        arg_max(period_key, (burnt, period_key)) as period_key,
        arg_max(money_burnt, (burnt, period_key)) as money_burnt,
        arg_max(count_burnt, (burnt, period_key)) as count_burnt,
        max(burnt) as burnt,
        count(*) filter (where exhausted) as accounts_exhausted,
        count(*) as accounts
    from accounts
    group by promotion_id
)

select * from final order by burnt desc, promotion_id limit 10;
