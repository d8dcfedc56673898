"""Every version of the fulfilment network, read whole from its compacted topic with kafka-python."""

from __future__ import annotations

import logging
import time

from kafka import KafkaConsumer, TopicPartition

from domain.fulfilment.network import NetworkLog
from settings import Settings
from streams.codec import DecodeError, decode
from streams.topics import FULFILMENT_NETWORK

log = logging.getLogger("omnistream.network")
READ_TIMEOUT_S = 30.0
BOOTSTRAP_TIMEOUT_MS = 10_000  # how long a client tries to reach the cluster before giving up


def read_network(settings: Settings, timeout_s: float = READ_TIMEOUT_S) -> NetworkLog:
    """The topic from its beginning to its end as of now; an undecodable record is skipped (and logged)."""
    topic = FULFILMENT_NETWORK.full_name(settings.topic_prefix)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap.split(","), group_id=None,
                             client_id=f"{settings.app_id}-network-reader", enable_auto_commit=False,
                             bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
                             **settings.security.kafka_python_kwargs())
    network = NetworkLog()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            raise LookupError(f"no topic {topic} on {settings.bootstrap} (create it with `python -m streams.admin`)")
        ends = consumer.end_offsets(partitions)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end in {timeout_s:g} s")
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    _add(network, record.value, settings.max_event_bytes, f"{topic}@{record.offset}")
    finally:
        consumer.close()
    return network


def _add(network: NetworkLog, raw: bytes | None, max_bytes: int, where: str) -> None:
    try:
        network.add(decode(FULFILMENT_NETWORK, raw, max_bytes))
    except DecodeError as err:
        log.warning("skipped %s: %s", where, err.reason)
