-- Dashboard: the 20 most recent fraud alerts, newest first.
with final as (
    select alert_id, rule, severity, entity_kind, entity_id, summary, window_start, window_end, raised_at
    from fct_fraud_alerts
)

select * from final order by raised_at desc, alert_id limit 20;
