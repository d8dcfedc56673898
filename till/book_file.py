"""The till's copy of the price book: the raw records of `pricing.book-entries` with their offsets, in a file.

`sync` reads the compacted topic whole (kafka-python, no consumer group) and writes the records
as they came; `load` builds the book from the file with the worker's own decode and
`PriceBook.apply`, so at the same version the till and the centre hold the same book.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from domain.pricing.book import PriceBook
from settings import Settings
from streams.codec import DecodeError, decode
from streams.topics import PRICING_BOOK


def sync(settings: Settings, path: Path, timeout_s: float = 30.0) -> int:
    """Read the whole book topic into `path` (atomically replaced); the number of records."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap.split(","), group_id=None,
                             enable_auto_commit=False, client_id=f"{settings.app_id}-till",
                             request_timeout_ms=int(timeout_s * 1000) + 5000, **settings.security.kafka_python_kwargs())
    try:
        tp = TopicPartition(PRICING_BOOK.full_name(settings.topic_prefix), 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        end = consumer.end_offsets([tp])[tp]
        rows = []
        while consumer.position(tp) < end:
            for records in consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=5000).values():
                rows += [{"offset": r.offset, "value": base64.b64encode(r.value).decode()}
                         for r in records if r.value is not None]
    finally:
        consumer.close()
    tmp = path.with_suffix(".tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    tmp.replace(path)
    return len(rows)


def load(path: Path, max_bytes: int) -> PriceBook:
    """The book the saved records build (records that do not decode are skipped, as the worker skips them)."""
    book = PriceBook()
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        try:
            event = decode(PRICING_BOOK, base64.b64decode(row["value"]), max_bytes)
        except DecodeError:
            continue
        book.apply(event, int(row["offset"]))
    return book
