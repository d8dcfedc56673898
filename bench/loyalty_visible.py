"""How soon a till sale shows in the customer's wallet: from the sale's publish on
`pos.transactions` (loyalty card on the receipt) through the router, identity resolution, the
purchase record and the wallet, to the wallet's posting on `loyalty.ledger-entries`. The
posting is sent after the wallet is written, so its broker timestamp is when the change became
visible. Paced open-loop; everything else in the stack is idle."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from tqdm import tqdm

from domain.identity import purchase_key_of_sale
from domain.ids import derived_id
from settings import Settings
from streams.codec import encode
from streams.pos import CustomerRef, PosSale, SaleLine, Tender
from streams.topics import LOYALTY_LEDGER, POS_TRANSACTIONS

STORES = 20
READ_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Visible:
    offered_per_s: float
    sales: int
    seen: int
    latencies_ms: list[float]


def sale(run: str, n: int) -> tuple[bytes, bytes, str]:
    """(key, value, the id of the earn its first line causes) of the n-th sale: its own card and store."""
    store = f"st-{n % STORES + 1:03d}"
    receipt = f"vis-{run}-{n}"
    event = PosSale(
        event_id=f"{receipt}-ev", occurred_at=datetime.now(UTC), source_node=store, receipt_id=receipt,
        terminal_id="t-1", cashier_id="c-1", customer=CustomerRef(kind="loyalty_card", value=f"LCV{run}{n:08d}"),
        lines=[SaleLine(line_no=1, sku="SKU-V001", quantity=1, unit_price_cents=2_500)],
        tenders=[Tender(method="card", amount_cents=2_500)],
    )
    earn_id = derived_id(purchase_key_of_sale(store, receipt), "earn:1")
    return store.encode(), encode(event), earn_id


def measure(settings: Settings, run: str, rate: float, seconds: float, progress: bool) -> Visible:
    topic = LOYALTY_LEDGER.full_name(settings.topic_prefix)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap.split(","), enable_auto_commit=False,
                             **settings.security.kafka_python_kwargs())
    partitions = [TopicPartition(topic, p) for p in range(LOYALTY_LEDGER.partitions)]
    consumer.assign(partitions)
    for tp, end in consumer.end_offsets(partitions).items():
        consumer.seek(tp, end)
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap.split(","), acks="all", linger_ms=0,
                             **settings.security.kafka_python_kwargs())
    sent: dict[str, float] = {}
    count = max(1, int(rate * seconds))
    try:
        t0 = time.time()
        for n in tqdm(range(count), desc=f"till sales at {rate:g}/s", unit="sale", file=sys.stderr,
                      disable=not progress, mininterval=0.5):
            delay = t0 + n / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            key, value, earn_id = sale(run, n)
            sent[earn_id] = time.time()
            producer.send(POS_TRANSACTIONS.full_name(settings.topic_prefix), key=key, value=value)
        producer.flush()
        latencies: list[float] = []
        deadline = time.monotonic() + READ_TIMEOUT_S
        while len(latencies) < count and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    posted = json.loads(record.value)
                    at = sent.pop(posted.get("command_id", ""), None)
                    if at is not None:
                        latencies.append(max(0.0, record.timestamp - at * 1000))
        return Visible(rate, count, len(latencies), latencies)
    finally:
        producer.close()
        consumer.close()
