"""Benchmarks that run against the real broker: `python -m bench.pipeline`."""
