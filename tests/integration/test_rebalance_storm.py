"""Workers join, leave, die and come back while a day streams in: every membership change
rebalances the group mid-stream, many partitions with no committed offset yet (the case that
lost a receipt in CI, runtime/consumer_fixes.py). Stock and the analysts' facts still equal the
reference model exactly: nothing lost, nothing applied twice."""

from __future__ import annotations

import pytest

from sim.config import SimConfig
from tests.conftest import Pipeline
from tests.integration.checks import (
    DayInBackground,
    applied_movements,
    assert_duckdb_equals_report,
    assert_stock_table_equals_report,
    just_ended,
    wait_until_projected,
)
from tests.integration.kafka_io import wait_for

pytestmark = pytest.mark.integration

# 100 s of publishing: three worker starts (each 13-20 s on a loaded runner) and a session
# timeout must fit inside the day, or the test cannot show changes made mid-stream.
DAY = just_ended(SimConfig(events=5_000, seed=17, stores=8, warehouses=2, skus=100, customers=800, rate=50))


def test_workers_joining_leaving_and_dying_mid_stream_lose_and_repeat_nothing(pipeline: Pipeline) -> None:
    first = pipeline.worker("worker-a").start()
    sink = pipeline.sink().start()
    first.wait_healthy()
    sink.wait_healthy()
    day = DayInBackground(DAY)
    wait_for(lambda: applied_movements(first), lambda n: n > 100, 120, "the first worker to be applying stock")

    second = pipeline.worker("worker-b").start()  # joins: the group rebalances mid-stream
    second.wait_healthy(120)
    third = pipeline.worker("worker-c").start()  # a third member: another rebalance
    third.wait_healthy(120)
    second.stop()  # leaves cleanly: its partitions move at once
    third.kill9()  # dies: its partitions move after the session timeout
    second.start()  # comes back on its own disk
    second.wait_healthy(120)
    changes_done_while_publishing = day.publishing()

    report = day.report()
    wait_until_projected(pipeline.analytics_path, report, stall_s=180)
    assert_duckdb_equals_report(pipeline.analytics_path, report)
    for worker in (first, second):  # either one answers for every SKU (the other's via routing)
        assert_stock_table_equals_report(worker, report)
    assert changes_done_while_publishing, "the day ended before the last rebalance: slow the simulator down"
