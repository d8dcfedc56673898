-- True when the file holds a sink_status without lateness columns: its lag_*_ms were measured
-- from occurred_at, not append time (analytics/store.py drops it; the sink recreates it).
select
    exists (select 1 from duckdb_tables()
            where database_name = current_database() and table_name = 'sink_status')
    and not exists (select 1 from duckdb_columns()
                    where database_name = current_database() and table_name = 'sink_status'
                      and column_name = 'lateness_p50_ms') as outdated;
