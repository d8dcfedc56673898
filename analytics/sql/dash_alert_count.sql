-- Dashboard: how many fraud alerts there are in all, and how many of them are high severity.
select count(*) as alerts, count(*) filter (where severity = 'high') as high from fct_fraud_alerts;
