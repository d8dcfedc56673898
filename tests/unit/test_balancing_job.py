"""The balancing job without a broker: its SQL on in-memory DuckDB, its inputs, table, publishing and CLI."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from analytics import balancing, network_versions
from analytics.batch import Batch
from analytics.rows import rows_for
from analytics.sql_files import SCHEMA, sql
from domain.fulfilment.balancing import BalancingParams, Position, nodes_to_balance, propose
from domain.fulfilment.network import NetworkLog
from settings import Settings
from streams.base import Event
from streams.codec import decode, encode
from streams.fulfilment import NodeDefined
from streams.inventory import AvailabilityChanged, StockChanged
from streams.topics import INVENTORY_TRANSFER_SUGGESTIONS

AS_OF = datetime(2025, 3, 20, 5, 0, tzinfo=UTC)
SKU = "SKU-100234"


def create(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    for name in SCHEMA:
        con.execute(sql(name))
    return con


def project(con: duckdb.DuckDBPyConnection, events: Iterable[Event]) -> None:
    """As the sink does: rows per table through `rows_for`, inserted by name."""
    batch = Batch()
    for n, event in enumerate(events):
        for table, rows in rows_for(event, AS_OF + timedelta(microseconds=n)).items():
            batch.rows[table] += rows
    for table, frame in batch.frames().items():
        con.register("batch_rows", frame.to_arrow())
        con.execute(f"insert or ignore into {table} by name select * from batch_rows")
        con.unregister("batch_rows")


class Ledger:
    """Ledger entries of positions, each after the last; `days_ago` dates them before AS_OF."""

    def __init__(self) -> None:
        self.on_hand: dict[tuple[str, str], int] = {}
        self.events: list[Event] = []

    def move(self, sku: str, node: str, kind: str, delta: int, days_ago: float = 1.0) -> Ledger:
        after = self.on_hand.get((sku, node), 0) + delta
        self.on_hand[(sku, node)] = after
        n = len(self.events)
        self.events.append(StockChanged(
            event_id=f"l{n}", occurred_at=AS_OF - timedelta(days=days_ago), source_node=node, movement_id=f"m{n}",
            sku=sku, node=node, kind=kind, on_hand_delta=delta, damaged_delta=0,  # type: ignore[arg-type]
            on_hand_after=after, damaged_after=0, cause_event_id=f"c{n}", cause_type="test", movement_offset=n,
        ))
        return self


def availability(sku: str, node: str, on_hand: int, held: int) -> AvailabilityChanged:
    return AvailabilityChanged(event_id=f"a:{sku}:{node}", occurred_at=AS_OF - timedelta(hours=1), source_node=node,
                               sku=sku, node=node, on_hand=on_hand, held=held, safety=0, atp=on_hand - held)


def inputs(con: duckdb.DuckDBPyConnection, window_days: int = 14) -> list[tuple[Any, ...]]:
    return balancing.read_inputs(con, AS_OF, window_days).rows()


def test_the_inputs_are_stock_now_and_units_sold_in_the_window_per_sku_and_node() -> None:
    con = create(duckdb.connect())
    project(con, Ledger()
            .move(SKU, "st-001", "receipt", 50, days_ago=30)
            .move(SKU, "st-001", "sale", -9, days_ago=20)  # before the window
            .move(SKU, "st-001", "sale", -6, days_ago=10)
            .move(SKU, "st-001", "void", 1, days_ago=10)  # one unit of that sale undone
            .move(SKU, "st-001", "hold_commit", -2, days_ago=3)  # an online order shipped from the store
            .move(SKU, "st-001", "return", 3, days_ago=2)  # returns are not negative sales
            .move(SKU, "st-002", "receipt", 4, days_ago=30)
            .move(SKU, "st-002", "sale", -4, days_ago=1)
            .move(SKU, "st-002", "sale", -1, days_ago=-1)  # after as_of
            .events)

    assert inputs(con) == [
        (SKU, "st-001", "store", 37, None, 0, 7),
        (SKU, "st-002", "store", -1, None, 0, 4),
    ]


def test_the_inputs_take_atp_and_in_transit_from_the_newest_availability() -> None:
    con = create(duckdb.connect())
    project(con, [*Ledger().move(SKU, "st-001", "receipt", 20, days_ago=5).events,
                  availability(SKU, "st-001", on_hand=20, held=5)])

    assert inputs(con) == [(SKU, "st-001", "store", 20, 15, 0, 0)]


def test_the_inputs_leave_out_capacity_skus_and_name_each_nodes_kind() -> None:
    con = create(duckdb.connect())
    project(con, Ledger()
            .move("CAP-1A2B3C4D-S-25032007", "st-001", "receipt", 12)
            .move("CAP-1A2B3C4D-S-25032007", "st-001", "hold_commit", -1)
            .move(SKU, "wh-01", "receipt", 500)
            .move(SKU, "wh-01", "hold_commit", -40)
            .events)

    assert inputs(con) == [(SKU, "wh-01", "warehouse", 460, None, 0, 40)]


def test_the_window_is_the_days_up_to_as_of() -> None:
    con = create(duckdb.connect())
    project(con, Ledger()
            .move(SKU, "st-001", "receipt", 50, days_ago=40)
            .move(SKU, "st-001", "sale", -5, days_ago=6.5)
            .move(SKU, "st-001", "sale", -3, days_ago=7.5)
            .events)

    assert [row[-1] for row in inputs(con, window_days=7)] == [5]
    assert [row[-1] for row in inputs(con, window_days=8)] == [8]


FRAME = pl.DataFrame({
    "sku": [SKU] * 4, "node": ["st-001", "st-002", "wh-01", "store-0042"],
    "kind": ["store", "store", "warehouse", "other"], "on_hand": [48, 12, 500, 3], "atp": [40, None, 500, 3],
    "in_transit": [0, 6, 0, 0], "units_sold": [6, 70, 200, 0],
})


def test_without_a_network_the_stores_are_balanced_by_their_id_without_distances() -> None:
    got = balancing.balanced(FRAME, None)

    assert got.positions == [Position(SKU, "st-001", 48, 40, 0), Position(SKU, "st-002", 12, None, 6)]
    assert got.sales == {(SKU, "st-001"): 6, (SKU, "st-002"): 70}
    assert got.coordinates == {}


def test_with_a_network_its_stores_and_dark_stores_are_balanced_with_their_coordinates() -> None:
    where = {"st-002": (52.09, 5.12), "store-0042": (52.37, 4.89)}

    got = balancing.balanced(FRAME, where)

    assert [p.node for p in got.positions] == ["st-002", "store-0042"]
    assert got.sales == {(SKU, "st-002"): 70}
    assert got.coordinates == where


class FakeFuture:
    def get(self, timeout: float) -> None:
        return None


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.flushed = False

    def send(self, topic: str, key: bytes, value: bytes) -> FakeFuture:
        self.sent.append((topic, key, value))
        return FakeFuture()

    def flush(self, timeout: float) -> None:
        self.flushed = True


def suggestions() -> list[Any]:
    positions = [Position(SKU, "st-001", 48), Position(SKU, "st-002", 12), Position("SKU-200871", "st-001", 30),
                 Position("SKU-200871", "st-002", 0)]
    sales = {(SKU, "st-001"): 6, (SKU, "st-002"): 70, ("SKU-200871", "st-002"): 30}
    return propose(positions, sales, AS_OF, BalancingParams())


def test_publishing_sends_each_suggestion_to_its_topic_under_the_sku() -> None:
    producer, sent = FakeProducer(), suggestions()

    balancing.publish(producer, sent, prefix="t1-")

    assert producer.flushed
    assert [(topic, key) for topic, key, _ in producer.sent] == [
        ("t1-inventory.transfer-suggestions", b"SKU-100234"), ("t1-inventory.transfer-suggestions", b"SKU-200871"),
    ]
    assert [decode(INVENTORY_TRANSFER_SUGGESTIONS, raw, 262_144) for _, _, raw in producer.sent] == sent


def test_the_table_shows_one_line_per_suggestion_with_the_figures_behind_it() -> None:
    lines = balancing.table(suggestions()).splitlines()

    assert lines[0].split() == ["sku", "from", "to", "units", "from", "on", "hand", "from", "/day", "from", "cover",
                                "to", "on", "hand", "to", "/day", "to", "cover"]
    assert lines[1].split() == ["SKU-100234", "st-001", "st-002", "42", "48", "0.43", "112", "->", "14", "12",
                                "5.00", "2.4", "->", "10.8"]
    assert lines[2].split()[:4] == ["SKU-200871", "st-001", "st-002", "28"]
    assert "- -> -" in lines[2]  # sold nothing: unlimited cover


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "analytics.duckdb"
    with duckdb.connect(str(path)) as con:
        create(con)
        project(con, Ledger()
                .move(SKU, "st-001", "receipt", 54, days_ago=30)
                .move(SKU, "st-001", "sale", -6, days_ago=5)
                .move(SKU, "st-002", "receipt", 82, days_ago=30)
                .move(SKU, "st-002", "sale", -70, days_ago=3)
                .events)
    return path


def test_a_dry_run_prints_the_suggestions_and_publishes_nothing(
    snapshot: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(balancing, "KafkaProducer", None)  # a dry run never builds a producer

    code = balancing.main(["--db", str(snapshot), "--as-of", AS_OF.isoformat(), "--dry-run", "--no-network"])

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[1].split()[:4] == [SKU, "st-001", "st-002", "42"]


def test_a_run_publishes_through_a_producer_configured_from_the_settings(
    snapshot: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[dict[str, Any]] = []
    producer = FakeProducer()
    producer.close = lambda: None  # type: ignore[attr-defined]
    monkeypatch.setenv("OMNI_TOPIC_PREFIX", "t2-")

    def kafka_producer(**config: Any) -> FakeProducer:
        made.append(config)
        return producer

    monkeypatch.setattr(balancing, "KafkaProducer", kafka_producer)

    code = balancing.main(["--db", str(snapshot), "--as-of", AS_OF.isoformat(), "--no-network", "--once"])

    assert code == 0
    assert made[0]["acks"] == "all" and made[0]["enable_idempotence"] is True
    assert [(topic, key) for topic, key, _ in producer.sent] == [("t2-inventory.transfer-suggestions", SKU.encode())]


def test_a_missing_snapshot_is_reported_not_raised(tmp_path: Path) -> None:
    assert balancing.main(["--db", str(tmp_path / "none.duckdb"), "--once", "--no-network", "--dry-run"]) == 2


def test_the_options_default_to_the_domains_params_and_refuse_contradictions() -> None:
    _, params = balancing.parse_args([], Settings.from_env())
    assert params == BalancingParams()
    _, changed = balancing.parse_args(["--window-days", "28", "--target-cover-days", "5"], Settings.from_env())
    assert (changed.window_days, changed.target_cover_days) == (28, 5.0)
    with pytest.raises(SystemExit):
        balancing.parse_args(["--target-cover-days", "20"], Settings.from_env())


def test_as_of_without_an_offset_is_refused() -> None:
    with pytest.raises(SystemExit):
        balancing.parse_args(["--as-of", "2025-03-20T06:00:00"], Settings.from_env())


def test_a_network_record_that_does_not_decode_is_skipped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    network = NetworkLog()
    node = NodeDefined(event_id="n1", occurred_at=AS_OF, source_node="hq", node_id="store-0042", version=1,
                       effective_from=AS_OF - timedelta(days=1), kind="store", lat=52.3702, lon=4.891)

    network_versions._add(network, b'{"type": "fulfilment.node_defined"}', 262_144, "fulfilment.network-versions@0")
    network_versions._add(network, encode(node), 262_144, "fulfilment.network-versions@1")

    assert nodes_to_balance(network.as_of(AS_OF)) == {"store-0042": (52.3702, 4.891)}
    assert "skipped fulfilment.network-versions@0: invalid event" in caplog.text
