"""Projections out: the DuckDB sink, its SQL models and the analyst snapshot."""
