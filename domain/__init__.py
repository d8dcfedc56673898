"""Pure retail decisions: no Kafka, no Faust, no DuckDB, no clock."""
