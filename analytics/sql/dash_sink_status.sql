-- Dashboard: the sink's latest self-report (published with each snapshot), when the table exists.
select published_at, records, lag_p50_ms, lag_p99_ms, lag_max_ms, lateness_p50_ms, lateness_p99_ms, lateness_max_ms
from sink_status
order by published_at desc
limit 1;
