"""Fraud rules over the unified streams, and the alert sink.

`watch_fraud` consumes `fraud.facts` (ingest events the router re-keyed by the entity each rule
judges) and `customers.purchases` (the unified purchase history, keyed by customer), keeps each
entity's state in the `fraud` table and publishes alerts to `fraud.alerts`. Decisions:
`domain.fraud_judge.judge`. An alert's id derives from its rule, entity and first evidence, so a
redelivered fact re-sends the same alert; everything downstream deduplicates on it.

`notify_fraud` consumes `fraud.alerts` and hands each alert to loss prevention: a log line, and
a POST to `OMNI_FRAUD_WEBHOOK_URL` when set (header `Idempotency-Key: <alert id>`, retried with
back-off; at least once). DuckDB gets alerts through the sink like every other fact.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiokafka import TopicPartition
from faust import StreamT

from domain.fraud import Alert, rules_from
from domain.fraud_judge import Judged, WaitingIndex, alert_event, judge, key_of, settle_waiting, waiting_key
from ops.metrics import EVENTS, FRAUD_ALERTS, FRAUD_WAITING, FRAUD_WEBHOOK
from runtime.app import after_assignment, app, channel, settings
from runtime.batch import Pending
from runtime.dead_letters import decode_batch, send_dead_letter
from runtime.publish import publish
from runtime.source import OwnedSource
from streams.base import Event, Record
from streams.codec import DecodeError, decode
from streams.fraud import FraudAlert
from streams.topics import CUSTOMERS_PURCHASES, FRAUD_FACTS, spec_for
from streams.topics import FRAUD_ALERTS as ALERTS_TOPIC
from tables.fraud import fraud_state, fraud_table

log = logging.getLogger("omnistream.fraud")
RULES = rules_from(settings.fraud)
WEBHOOK_TRIES = 4
_alerts = ALERTS_TOPIC.full_name(settings.topic_prefix)


@after_assignment
async def _forget_positions() -> None:
    _waiting.clear()  # another worker may have moved a partition's index on: read it again
    _watermark.clear()


async def judge_batch(tp: TopicPartition, records: list[Any]) -> None:
    """One partition of `fraud.facts` or `customers.purchases` in log order, against each
    entity's latest state (written once per checkpoint); the batch's alerts sent after."""
    spec = spec_for(tp.topic, settings.topic_prefix)
    states = fraud_state
    alerts: list[Alert] = []
    for record, event in await decode_batch(spec, records, "watch_fraud"):
        key = key_of(event)
        if spec is FRAUD_FACTS and record.key != key.encode():
            reason = f"fraud.facts records must be keyed by {key!r} (the entity they concern), got {record.key!r}"
            await send_dead_letter(spec, record, reason, "watch_fraud")
            continue
        judged = judge(states.get(key), event, RULES)
        if judged.state is not None:
            states.put(key, judged.state)
        alerts += judged.alerts
        if spec is FRAUD_FACTS:
            alerts += _settle_waiting(states, record.partition, _seconds(record.timestamp), key, event, judged)
        EVENTS.labels(spec.name).inc()
    await _send(alerts)


async def _send(alerts: list[Alert]) -> None:
    for alert in alerts:
        out = alert_event(alert)
        await publish(ALERTS_TOPIC, out)
        FRAUD_ALERTS.labels(out.rule, out.severity).inc()


_watermark: dict[int, datetime] = {}  # newest append time seen per partition of fraud.facts
_waiting: dict[int, WaitingIndex] = {}  # cache of each partition's index (table key waiting:<p>)


def _seconds(timestamp: float) -> float:
    """Faust's messages carry seconds, records re-read by the stage (aiokafka) milliseconds."""
    return timestamp / 1000 if timestamp > 1e11 else timestamp


def _settle_waiting(states: Pending[str, str | Record | None], partition: int, timestamp: float, key: str, event: Event,
                    judged: Judged) -> list[Alert]:
    """Track keys whose facts wait (returns for their sale);
    judge those the partition's append time has carried `join_grace` past. The index is stored
    under `waiting:<partition>`, written while a record of that partition is processed, so it
    stays on that changelog partition."""
    index = _waiting.get(partition)
    if index is None:
        stored = states.get(waiting_key(partition))
        if isinstance(stored, WaitingIndex):
            index = stored
        else:
            index = WaitingIndex() if stored is None else WaitingIndex.model_validate_json(str(stored))
        _waiting[partition] = index
    appended = datetime.fromtimestamp(timestamp, UTC)  # the router's send time (CreateTime)
    watermark = max(_watermark.get(partition, appended), appended)
    _watermark[partition] = watermark
    updated, expired = settle_waiting(index, key, event, judged, watermark, RULES, states.get)
    alerts: list[Alert] = []
    for waited, verdict in expired.items():
        if verdict.state is not None:
            states.put(waited, verdict.state)
        alerts += verdict.alerts
    if updated != index:
        _waiting[partition] = updated
        states.put(waiting_key(partition), updated)
    FRAUD_WAITING.labels(str(partition)).set(len(updated.since))
    return alerts


class Recent:
    """Alert ids this worker already handed on, so a replay does not page anyone twice."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, alert_id: str) -> bool:
        if alert_id in self.ids:
            return False
        self.ids[alert_id] = None
        if len(self.ids) > self.size:
            self.ids.popitem(last=False)
        return True


recent = Recent()


@app.agent(channel(ALERTS_TOPIC))
async def notify_fraud(stream: StreamT) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        async for message in stream.events():
            try:
                alert = decode(ALERTS_TOPIC, message.message.value, settings.max_event_bytes)
            except DecodeError as err:
                await send_dead_letter(ALERTS_TOPIC, message.message, err.reason, "notify_fraud")
                continue
            assert isinstance(alert, FraudAlert)
            if not recent.first_time(alert.alert_id):
                continue
            log.warning("FRAUD ALERT [%s] %s %s=%s: %s (alert %s, %s to %s)", alert.severity, alert.rule,
                        alert.entity_kind, alert.entity_id, alert.summary, alert.alert_id,
                        alert.window_start.isoformat(), alert.window_end.isoformat())
            if settings.fraud_webhook_url:
                await _post(session, alert)


async def _post(session: aiohttp.ClientSession, alert: FraudAlert) -> None:
    body = alert.model_dump(mode="json")
    for attempt in range(1, WEBHOOK_TRIES + 1):
        try:
            async with session.post(settings.fraud_webhook_url, json=body,
                                    headers={"Idempotency-Key": alert.alert_id}) as response:
                if response.status < 300:
                    FRAUD_WEBHOOK.labels("ok").inc()
                    return
                problem = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as err:
            problem = f"{type(err).__name__}: {err}"
        if attempt < WEBHOOK_TRIES:
            await asyncio.sleep(0.5 * 2 ** attempt)
    FRAUD_WEBHOOK.labels("failed").inc()
    log.error("fraud webhook %s refused alert %s after %d tries (%s): the alert is on topic %s and in DuckDB; "
              "check the webhook receiver", settings.fraud_webhook_url, alert.alert_id, WEBHOOK_TRIES, problem, _alerts)


_sources = tuple(spec.full_name(settings.topic_prefix) for spec in (FRAUD_FACTS, CUSTOMERS_PURCHASES))
source = OwnedSource(app, settings, "watch_fraud", _sources, fraud_table, judge_batch, state=(fraud_state,))
