"""Bad records reach their dead-letter topic byte for byte, and the worker keeps going."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from ops.processes import get_json
from streams.codec import encode
from streams.deadletter import DeadLetter
from streams.pos import PosSale, SaleLine, Tender
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, query, read_all, scalar, wait_for

pytestmark = pytest.mark.integration

BAD = [
    (b"not json at all", "invalid JSON"),
    (b'{"type": "pos.sale", "event_id": 42}', "invalid event"),
    (b'{"type": "pos.teleport", "event_id": "x1"}', "does not match any of the expected tags"),
    (b"[1, 2, 3]", "invalid event"),
]


def sale(event_id: str, quantity: int) -> PosSale:
    return PosSale(
        event_id=event_id, occurred_at=datetime(2026, 11, 2, 9, tzinfo=UTC), source_node="st-001",
        receipt_id=f"r-{event_id}", terminal_id="t1", cashier_id="c1",
        lines=[SaleLine(line_no=1, sku="SKU-00001", quantity=quantity, unit_price_cents=250)],
        tenders=[Tender(method="cash", amount_cents=250 * quantity)],
    )


def test_bad_records_are_dead_lettered_with_raw_bytes_reason_and_offset_and_good_ones_still_flow(
    pipeline: Pipeline, kafka_bootstrap: str
) -> None:
    worker = pipeline.worker().start()
    sink = pipeline.sink().start()
    worker.wait_healthy()
    sink.wait_healthy()
    topic = f"{pipeline.prefix}pos.transactions"
    negative = sale("neg-1", 1).model_dump_json().replace('"quantity":1', '"quantity":-3').encode()
    too_large = encode(sale("big-1", 1)).replace(b'"c1"', b'"' + b"c" * 300_000 + b'"')
    bad = [*BAD, (negative, "greater than 0"), (too_large, "too large")]
    p = producer(kafka_bootstrap)
    sent = [p.send(topic, key=b"st-001", value=raw).get(timeout=10) for raw, _ in bad]
    p.send(topic, key=b"st-001", value=encode(sale("good-1", 2))).get(timeout=10)
    p.flush()

    records = read_all(kafka_bootstrap, topic + ".dlq", len(bad))
    letters = [DeadLetter.from_record(r.key, r.value, r.headers) for r in records]
    assert len(letters) == len(bad)
    by_offset = {letter.source_offset: letter for letter in letters}
    for meta, (raw, reason) in zip(sent, bad, strict=True):
        letter = by_offset[meta.offset]
        assert letter.raw == raw and letter.key == b"st-001"
        assert letter.source_topic == topic and letter.source_partition == meta.partition
        assert re.search(re.escape(reason), letter.reason), (reason, letter.reason)

    # The worker survived and applied the good sale after the bad ones.
    stock = wait_for(lambda: get_json(f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}/stock/SKU-00001/")[1],
                     lambda body: bool(body) and body["total_on_hand"] == -2, 60, "the good sale in the stock table")
    assert stock["nodes"]["st-001"]["on_hand"] == -2
    metrics = wait_for(lambda: _text(f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}/metrics"),
                       lambda text: "omnistream_dead_letters_total" in text, 10, "metrics")
    assert re.search(r'omnistream_dead_letters_total\{topic="pos.transactions"\} 6\.0', metrics)
    assert "dead-lettered" in worker.tail(200)

    # Analysts see them too, without the raw bytes.
    wait_for(lambda: scalar(pipeline.analytics_path, "select count(*) from dead_letters"), lambda n: n == len(bad), 60,
             "dead letters in DuckDB")
    rows = query(pipeline.analytics_path, "select source_offset, reason from dead_letters order by source_offset")
    assert [r[0] for r in rows] == sorted(m.offset for m in sent)


def _text(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()
