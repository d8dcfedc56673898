"""Over SASL_SSL with ACLs a till's sale reaches stock and DuckDB, and each principal is refused what is not its own."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import TopicAuthorizationFailedError as AioTopicAuthorizationFailed
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import (
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.errors import TopicAuthorizationFailedError

from broker import acls, ensure_broker, secure, stop_broker
from broker.config import BrokerSettings, settings_from_env
from ops import processes
from ops.processes import Service
from settings import Settings
from streams.codec import encode
from streams.deadletter import DeadLetter
from streams.pos import PosSale, SaleLine, Tender
from streams.topics import (
    CUSTOMER_ERASURE_REQUESTS,
    INVENTORY_ADJUSTMENTS,
    INVENTORY_MOVEMENTS,
    POS_TRANSACTIONS,
    PRICING_CHANGES,
)
from tests.integration.kafka_io import scalar, wait_for

pytestmark = pytest.mark.integration

TOKEN = "secured-test-token"
HEADERS = {"X-Client": "ops", "Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerSettings]:
    """A secured broker of this module only, on free ports in a temp dir: the shared dev broker is never touched."""
    settings = BrokerSettings(port=processes.free_port(), controller_port=processes.free_port(),
                              home=settings_from_env({}).home, data=tmp_path_factory.mktemp("kafka-secured"),
                              heap="512m", secure=True)
    ensure_broker(settings, timeout_s=90)
    yield settings
    stop_broker(settings)


@pytest.fixture
def slice_env(broker: BrokerSettings, tmp_path: Path) -> dict[str, str]:
    run = uuid.uuid4().hex[:8]
    env = {
        "OMNI_TOPIC_PREFIX": f"s{run}.",
        "OMNI_APP_ID": f"omni-secured-{run}",
        "OMNI_DUCKDB_PATH": str(tmp_path / "duckdb" / "omnistream.duckdb"),
        "OMNI_SINK_PORT": str(processes.free_port()),
        "OMNI_SNAPSHOT_INTERVAL_S": "1",
        "OMNI_SESSION_TIMEOUT_S": "10",
        "OMNI_CLIENT_TOKENS": f"ops:{TOKEN}:operator",
        "LOG_LEVEL": "INFO",
    }
    secure.apply_acls(broker, env["OMNI_TOPIC_PREFIX"], env["OMNI_APP_ID"])
    return env


def as_principal(broker: BrokerSettings, env: dict[str, str], principal: str) -> dict[str, str]:
    return {**env, **secure.principal_env(broker, principal)}


def sale(event_id: str, quantity: int) -> PosSale:
    return PosSale(
        event_id=event_id, occurred_at=datetime.now(UTC), source_node="st-001", receipt_id=f"r-{event_id}",
        terminal_id="t1", cashier_id="c1",
        lines=[SaleLine(line_no=1, sku="SKU-00001", quantity=quantity, unit_price_cents=250)],
        tenders=[Tender(method="cash", amount_cents=250 * quantity)],
    )


def producer(settings: Settings) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=settings.bootstrap, acks="all", max_block_ms=10_000,
                         **settings.security.kafka_python_kwargs())


def read_dead_letters(settings: Settings, topic: str) -> list[Any]:
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None, enable_auto_commit=False,
                             **settings.security.kafka_python_kwargs())
    try:
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek_to_beginning()
        return [r for batch in consumer.poll(timeout_ms=5_000).values() for r in batch]
    finally:
        consumer.close()


async def first_changelog_record(settings: Settings, topic: str) -> Any:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.bootstrap, group_id=None,
                                auto_offset_reset="earliest", **settings.security.aiokafka_kwargs())
    try:
        await consumer.start()
        return await asyncio.wait_for(consumer.getone(), 10)
    finally:
        await consumer.stop()


def stock(worker: Service) -> Any:
    request = urllib.request.Request(f"http://127.0.0.1:{worker.env['OMNI_WEB_PORT']}/stock/SKU-00001/",
                                     headers=HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


def test_a_till_sale_reaches_stock_and_duckdb_and_each_principal_is_refused_what_is_not_its_own(
    broker: BrokerSettings, slice_env: dict[str, str], tmp_path: Path
) -> None:
    prefix, app_id = slice_env["OMNI_TOPIC_PREFIX"], slice_env["OMNI_APP_ID"]
    worker_env = {**as_principal(broker, slice_env, "worker"), "OMNI_DATA_DIR": str(tmp_path / "worker"),
                  "OMNI_WEB_PORT": str(processes.free_port())}
    worker = processes.worker(worker_env, tmp_path / "logs").start()
    sink = processes.sink(as_principal(broker, slice_env, "sink"), tmp_path / "logs")
    try:
        worker.wait_healthy(120)
        sink.start().wait_healthy(90)
        till = Settings.from_env(as_principal(broker, slice_env, "till"))
        web = Settings.from_env(as_principal(broker, slice_env, "web"))
        operator = Settings.from_env(as_principal(broker, slice_env, "operator"))

        # The till publishes a sale (and one unreadable record) over SASL_SSL.
        p = producer(till)
        pos = POS_TRANSACTIONS.full_name(prefix)
        p.send(pos, key=b"st-001", value=encode(sale("sec-1", 3))).get(timeout=15)
        p.send(pos, key=b"st-001", value=b"not json at all").get(timeout=15)

        # ...which the worker applies to stock and the sink projects into DuckDB, each as its own principal.
        body = wait_for(lambda: stock(worker), lambda b: bool(b) and b.get("total_on_hand") == -3, 90,
                        "the sale in the stock table")
        assert body["nodes"]["st-001"]["on_hand"] == -3
        snapshot = Path(slice_env["OMNI_DUCKDB_PATH"]).with_name("analytics.duckdb")
        assert wait_for(lambda: scalar(snapshot, "select sum(quantity) from fct_sales_lines"), lambda n: n == 3, 90,
                        "the sale in DuckDB") == 3

        # The till may write its sales only: not stock movements, stock adjustments, prices or erasure requests...
        for spec in (INVENTORY_MOVEMENTS, INVENTORY_ADJUSTMENTS, PRICING_CHANGES, CUSTOMER_ERASURE_REQUESTS):
            with pytest.raises(TopicAuthorizationFailedError):
                p.send(spec.full_name(prefix), key=b"SKU-00001", value=b"{}").get(timeout=15)
        p.close()
        # ...nor read the wallets table's changelog, which the worker created and the operator can read.
        wallets = f"{app_id}-wallets-changelog"
        with pytest.raises(AioTopicAuthorizationFailed):
            asyncio.run(first_changelog_record(till, wallets))
        assert KafkaConsumer(bootstrap_servers=operator.bootstrap,
                             **operator.security.kafka_python_kwargs()).partitions_for_topic(wallets)

        # Dead letters: the worker wrote one, the operator reads it; the sink, the till and the web shop may
        # not. DuckDB has the dead letter from its notice: size, digest and a masked preview, no raw bytes.
        dlq = POS_TRANSACTIONS.full_name(prefix) + ".dlq"
        letters = wait_for(lambda: read_dead_letters(operator, dlq), lambda rs: len(rs) == 1, 60, "the dead letter")
        assert DeadLetter.from_record(letters[0].key, letters[0].value, letters[0].headers).raw == b"not json at all"
        noticed = wait_for(lambda: scalar(snapshot, "select count(*) from dead_letters where source_offset >= 0"),
                           lambda n: n == 1, 90, "the dead letter's notice in DuckDB")
        assert noticed == 1
        assert scalar(snapshot, "select raw_bytes from dead_letters") == len(b"not json at all")
        for refused in (till, web, Settings.from_env(as_principal(broker, slice_env, "sink"))):
            with pytest.raises(TopicAuthorizationFailedError):
                read_dead_letters(refused, dlq)

        # The simulator, which plays the back rooms too, may write a stock adjustment (the router dead-letters
        # this one: only the write's authorisation is under test).
        simulator = producer(Settings.from_env(as_principal(broker, slice_env, "simulator")))
        assert simulator.send(INVENTORY_ADJUSTMENTS.full_name(prefix), key=b"st-001", value=b"{}").get(timeout=15)
        simulator.close()
    finally:
        sink.stop(timeout_s=15)
        worker.stop(timeout_s=15)


def test_an_acl_the_map_no_longer_gives_is_deleted_and_applying_again_changes_nothing(
    broker: BrokerSettings, slice_env: dict[str, str]
) -> None:
    prefix, app_id = slice_env["OMNI_TOPIC_PREFIX"], slice_env["OMNI_APP_ID"]
    # What the till was granted before the map was narrowed, and another prefix's grant, which is not ours.
    narrowed = acls.Grant(acls.TILL, acls.TOPIC, acls.LITERAL, INVENTORY_ADJUSTMENTS.full_name(prefix), "WRITE")
    elsewhere = acls.Grant(acls.TILL, acls.TOPIC, acls.LITERAL, "elsewhere." + INVENTORY_ADJUSTMENTS.name, "WRITE")
    admin = secure.admin_client(broker)
    try:
        assert not admin.create_acls([secure.to_acl(narrowed), secure.to_acl(elsewhere)])["failed"]
        assert secure.apply_acls(broker, prefix, app_id) == (0, 1)
        assert secure.apply_acls(broker, prefix, app_id) == (0, 0)
        tills = ACLFilter(principal="User:till", host=None, operation=ACLOperation.ANY,
                          permission_type=ACLPermissionType.ANY,
                          resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, None, ACLResourcePatternType.ANY))
        on_broker = {secure.to_grant(acl) for acl in admin.describe_acls(tills)[0]}
        assert narrowed not in on_broker and elsewhere in on_broker
        assert {g for g in acls.grants(prefix, app_id) if g.principal == acls.TILL} <= on_broker
        admin.delete_acls([secure._exactly(secure.to_acl(elsewhere))])
    finally:
        admin.close()
