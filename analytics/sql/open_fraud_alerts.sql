-- View: fraud alerts whose window ended in the 7 days up to the newest alert's window end
-- (`as_of`; live, that is within seconds of now; on a replayed or simulated day it follows
-- the data), newest first.
create or replace view open_fraud_alerts as
with as_of as (
    select coalesce(max(window_end), now()) as moment from fct_fraud_alerts
),

final as (
    select
        alerts.alert_id,
        alerts.rule,
        alerts.severity,
        alerts.entity_kind,
        alerts.entity_id,
        alerts.summary,
        alerts.window_start,
        alerts.window_end,
        alerts.raised_at,
        as_of.moment as as_of
    from fct_fraud_alerts as alerts, as_of
    where alerts.window_end > as_of.moment - interval 7 day
)

select * from final order by window_end desc, alert_id;
