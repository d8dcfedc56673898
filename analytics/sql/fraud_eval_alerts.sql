-- Every fraud alert, as the evaluation against the simulator's labels reads it.
select alert_id, rule, severity, entity_kind, entity_id, window_start, window_end, summary,
       cast(evidence as varchar) as evidence
from fct_fraud_alerts
order by window_end, alert_id
