"""The worker's watch on the Kafka cluster (ops/cluster_watch.py): started with the worker, read by /health.

It starts when the worker initialises, before table recovery, and runs on its own thread: a
cluster that goes away while the worker serves leaves /health and table reads answering, and
says so there, on /metrics and in the log.
"""

from __future__ import annotations

from typing import Any

import faust

from ops.cluster_watch import ClusterWatch
from ops.metrics import KAFKA
from runtime.app import app, settings

watch = ClusterWatch(settings, KAFKA)


@app.on_worker_init.connect  # type: ignore[arg-type]
def _start_watch(app: faust.App, *args: Any, **kwargs: Any) -> None:
    watch.start()


@app.on_before_shutdown.connect  # type: ignore[arg-type]
async def _stop_watch(app: faust.App, *args: Any, **kwargs: Any) -> None:
    watch.stop()
