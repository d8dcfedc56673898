"""The Faust app, its settings and business clock, and the registry's topics as Faust channels.

Agents, tables and views import this; it imports none of them (app.py, the composition root,
imports them after it). Nothing here connects to Kafka at import time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import faust

from domain.loyalty_rules import rules_from
from ops import logs
from ops.clock import Clock
from runtime import consumer_fixes, producer_fixes
from settings import Settings
from streams import admin
from streams.topics import ALL_TOPICS, STOCK_PARTITIONS, TopicSpec

settings = Settings.from_env()
loyalty_rules = rules_from(settings.points_per_unit, settings.tier_thresholds, settings.tier_multipliers,
                           settings.excluded_skus)  # a bad threshold stops the worker at start
clock = Clock.from_settings(settings.clock_shift, settings.clock_file)  # business time: see ops/clock.py


def _credentials(s: Settings) -> faust.types.auth.CredentialsT | None:
    sec = s.security
    if sec.protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=sec.sasl_username,
            password=sec.sasl_password,
            mechanism=sec.sasl_mechanism,
            ssl_context=sec.ssl_context(),
        )
    if sec.protocol == "SSL":
        return faust.SSLCredentials(sec.ssl_context())
    return None


def create_app(s: Settings) -> faust.App:
    return faust.App(
        s.app_id,
        broker=[f"kafka://{host}" for host in s.bootstrap.split(",")],
        broker_credentials=_credentials(s),
        store=s.store,
        datadir=str(s.data_dir),
        autodiscover=False,  # explicit imports below: a broken module must stop the worker
        key_serializer="raw",
        value_serializer="raw",  # tables hold bytes written by typed helpers
        origin="app",  # the module `faust -A` names: app.py, which re-exports this app
        topic_partitions=STOCK_PARTITIONS,
        topic_replication_factor=s.replication_factor or 1,  # 0: decided at start (_create_topics)
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=s.session_timeout_s,
        broker_heartbeat_interval=1.0,
        broker_commit_interval=s.commit_interval_s,
        producer_linger=s.producer_linger_s,
        producer_max_batch_size=s.producer_batch_bytes,
        producer_acks=-1,
        web_host=s.web_host,
        web_bind=s.web_bind,
        web_port=s.web_port,
        web_in_thread=False,
        web_application_options={"client_max_size": s.http_max_body_bytes},  # 413 beyond (views/access.py)
        logging_config=logs.logging_config(s.log_format, s.log_level),
        table_cleanup_interval=30.0,
    )


app = create_app(settings)

# Records fetched but not delivered around a rebalance must come again: see runtime/consumer_fixes.py.
consumer_fixes.install([spec.full_name(settings.topic_prefix) for spec in ALL_TOPICS])
producer_fixes.install()  # no getpid() per record sent (runtime/producer_fixes.py)


@app.on_worker_init.connect  # type: ignore[arg-type]
def _create_topics(app: faust.App, *args: Any, **kwargs: Any) -> None:
    """The registry, not Faust, decides partitions and retention: create topics first."""
    changelogs = {table.changelog_topic.get_topic_name(): table.partitions or STOCK_PARTITIONS
                  for table in app.tables.values()}
    # Topics Faust creates itself (its assignor's leader topic) get the same number of copies: with
    # one copy under the cluster's min.insync.replicas 2, every acks=all write to them would fail.
    app.conf.topic_replication_factor = admin.resolve_replication(settings).factor
    admin.ensure_topics(settings, changelogs)


Hook = Callable[[], Awaitable[None]]


def after_assignment(hook: Hook, app: faust.App = app) -> Hook:
    """Run `hook` after every rebalance's assignment (Faust's `on_partitions_assigned`)."""
    async def handler(sender: Any, *args: Any, **kwargs: Any) -> None:
        await hook()
    app.on_partitions_assigned.connect(handler)  # type: ignore[arg-type]  # mode's handler type is too narrow
    return hook


def before_revocation(hook: Hook, app: faust.App = app) -> Hook:
    """Run `hook` when a rebalance revokes partitions (Faust awaits it before the group moves on)."""
    async def handler(sender: Any, *args: Any, **kwargs: Any) -> None:
        await hook()
    app.on_partitions_revoked.connect(handler)  # type: ignore[arg-type]
    return hook


def settled(app: faust.App = app) -> bool:
    """No rebalance or table recovery under way: the tables hold every key of the partitions this
    worker owns. `recovery.completed` stays set after the first start, and the assignment signal
    comes before recovery ends; `rebalancing` is true from the revocation until recovery is done."""
    recovery = cast(Any, app.tables).recovery  # faust's TableManagerT does not declare it
    return bool(recovery.completed.is_set() and not app.rebalancing and not recovery.in_recovery)


def channel(spec: TopicSpec) -> faust.TopicT:
    """The Faust channel of a registered topic: raw bytes in, decoded by `streams.codec`."""
    return app.topic(
        spec.full_name(settings.topic_prefix),
        key_type=bytes,
        key_serializer="raw",
        value_type=bytes,
        value_serializer="raw",
        partitions=spec.partitions,
        replicas=settings.replication_factor or None,  # None: app.conf's
        config=spec.config(),
    )


def channels(*specs: TopicSpec) -> faust.TopicT:
    """One Faust channel over several registered topics (raw bytes), for an agent that joins them;
    they must be co-partitioned (same partition count and key)."""
    return app.topic(
        *(spec.full_name(settings.topic_prefix) for spec in specs),
        key_type=bytes,
        key_serializer="raw",
        value_type=bytes,
        value_serializer="raw",
    )


def dead_letter_channel(spec: TopicSpec) -> faust.TopicT:
    return app.topic(
        settings.topic_prefix + spec.dlq_name,
        key_type=bytes,
        key_serializer="raw",
        value_type=bytes,
        value_serializer="raw",
        partitions=1,
        replicas=settings.replication_factor or None,  # None: app.conf's
    )
