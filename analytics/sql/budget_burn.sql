-- View: each budgeted promotion's budget against what its uses took (fct_promotion_uses, net of
-- returns), per budget account: one row per scope key (`chain`; the store; the customer) and
-- period (`all`; the UTC day, ISO week or month), as domain/pricing/budgets.py names them. The
-- limits are the latest version's (dim_promotion): opening an account at a new version brings
-- it to that version's limit. A promotion whose budget has not been touched shows `chain`/`all`
-- or nothing (a period or per-store budget has no row until its first use).
create or replace view budget_burn as
with budgeted as (
    select * from dim_promotion where budget_scope is not null
),

uses as (
    select
        uses.promotion_id,
        case budgeted.budget_scope
            when 'store' then uses.node
            when 'customer' then coalesce(uses.customer_id, '?')
            else 'chain'
        end as scope_key,
        case budgeted.budget_period
            when 'day' then strftime(timezone('UTC', uses.occurred_at), '%Y-%m-%d')
            when 'week' then strftime(timezone('UTC', uses.occurred_at), '%G-W%V')
            when 'month' then strftime(timezone('UTC', uses.occurred_at), '%Y-%m')
            else 'all'
        end as period_key,
        uses.discount_cents,
        uses.uses,
        uses.occurred_at
    from fct_promotion_uses as uses
    inner join budgeted on budgeted.promotion_id = uses.promotion_id
),

used as (
    select
        promotion_id,
        scope_key,
        period_key,
        sum(discount_cents) as money_used_cents,
        sum(uses) as count_used,
        min(occurred_at) as first_use_at,
        max(occurred_at) as last_use_at
    from uses
    group by promotion_id, scope_key, period_key
),

accounts as (
    select
        budgeted.promotion_id,
        coalesce(used.scope_key, 'chain') as scope_key,
        coalesce(used.period_key, 'all') as period_key,
        coalesce(used.money_used_cents, 0) as money_used_cents,
        coalesce(used.count_used, 0) as count_used,
        used.first_use_at,
        used.last_use_at
    from budgeted
    left join used on used.promotion_id = budgeted.promotion_id
    where used.promotion_id is not null or (budgeted.budget_scope = 'global' and budgeted.budget_period = 'all')
),

final as (
    select
        budgeted.promotion_id,
        budgeted.name,
        budgeted.version,
        budgeted.budget_scope,
        budgeted.budget_period,
        accounts.scope_key,
        accounts.period_key,
        budgeted.budget_money_cents,
        accounts.money_used_cents,
        round(accounts.money_used_cents / nullif(budgeted.budget_money_cents, 0), 4) as money_burnt,
        budgeted.budget_count,
        accounts.count_used,
        round(accounts.count_used / nullif(budgeted.budget_count, 0), 4) as count_burnt,
        greatest(
            coalesce(accounts.money_used_cents / nullif(budgeted.budget_money_cents, 0), 0),
            coalesce(accounts.count_used / nullif(budgeted.budget_count, 0), 0)
        ) >= 1 as exhausted,
        accounts.first_use_at,
        accounts.last_use_at
    from accounts
    inner join budgeted on budgeted.promotion_id = accounts.promotion_id
)

select * from final order by promotion_id, scope_key, period_key;
