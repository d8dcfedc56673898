"""Soak and reproduction tests: run with `make soak` (`pytest soak`), not part of `make test`.

They use the integration fixtures (a real broker, private pipelines). What lives here is a
known-intermittent failure under investigation, kept runnable rather than deleted; the issue
that owns it stays open until it passes reliably and moves into tests/integration.
"""

from tests.conftest import kafka_bootstrap, pipeline  # noqa: F401
