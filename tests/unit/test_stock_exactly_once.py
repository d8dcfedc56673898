"""The stock decision against its reference model, including crashes with partial flushes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.stock import Position, SkuStock, replay
from streams.inventory import StockChanged, StockMovement
from tables.stock_once import apply

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
KINDS = ["sale", "receipt", "return", "return_damaged", "damage", "count", "transfer_in", "transfer_out"]


def movement(n: int, sku: str, node: str, kind: str, quantity: int) -> StockMovement:
    signed = -quantity if kind in ("sale", "transfer_out") else quantity
    return StockMovement(
        event_id=f"ev-{n}:0", occurred_at=T0, source_node=node, sku=sku, node=node, kind=kind,  # type: ignore[arg-type]
        quantity=signed, cause_event_id=f"ev-{n}", cause_type="test",
    )


movements = st.lists(
    st.builds(
        movement,
        n=st.integers(0, 30),  # small id space: upstream duplicates happen often
        sku=st.sampled_from(["SKU-A1", "SKU-B2"]),
        node=st.sampled_from(["st-001", "wh-01"]),
        kind=st.sampled_from(KINDS),
        quantity=st.integers(1, 20),
    ),
    max_size=60,
)


@dataclass
class Log:
    """One Kafka partition of one output topic: writes become durable in order."""

    durable: list[object] = field(default_factory=list)
    pending: list[object] = field(default_factory=list)

    def flush(self) -> None:
        self.durable += self.pending
        self.pending = []

    def crash(self, keep: int) -> None:
        self.durable += self.pending[: min(keep, len(self.pending))]
        self.pending = []


@dataclass
class Worker:
    """The agent's loop, with Kafka reduced to its ordering and durability rules."""

    source: list[StockMovement]
    stock_log: Log = field(default_factory=Log)
    applied_log: Log = field(default_factory=Log)
    ledger_log: Log = field(default_factory=Log)
    committed: int = 0

    def restore(self) -> tuple[dict[str, SkuStock], dict[str, int]]:
        stock = {s.sku: s for s in self.stock_log.durable}  # type: ignore[attr-defined]
        applied = dict(self.applied_log.durable)  # type: ignore[arg-type]
        return stock, applied

    def run(self, until: int) -> None:
        stock, applied = self.restore()
        for offset in range(self.committed, until):
            m = self.source[offset]
            outcome = apply(
                stock.get(m.sku, SkuStock(sku=m.sku)), m, offset, applied.get(m.event_id), self.committed
            )
            if outcome.verdict == "applied":
                stock[m.sku] = outcome.stock
                self.stock_log.pending.append(outcome.stock)
            if outcome.remember_first_offset is not None:
                applied[m.event_id] = outcome.remember_first_offset
                self.applied_log.pending.append((m.event_id, outcome.remember_first_offset))
            self.ledger_log.pending += outcome.ledger

    def commit(self, offset: int) -> None:
        for log in (self.stock_log, self.applied_log, self.ledger_log):
            log.flush()
        self.committed = offset

    def crash(self, keeps: tuple[int, int, int]) -> None:
        for log, keep in zip((self.stock_log, self.applied_log, self.ledger_log), keeps, strict=True):
            log.crash(keep)


def first_entries(entries: list[StockChanged]) -> dict[str, StockChanged]:
    out: dict[str, StockChanged] = {}
    for e in entries:
        out.setdefault(e.movement_id, e)
    return out


def final_positions(worker: Worker) -> dict[tuple[str, str], Position]:
    stock, _ = worker.restore()
    return {(sku, node): p for sku, s in stock.items() for node, p in s.positions.items()}


def test_a_movement_seen_twice_changes_stock_once() -> None:
    m = movement(1, "SKU-A1", "st-001", "receipt", 5)
    first = apply(SkuStock(sku="SKU-A1"), m, 0, None, 0)
    again = apply(first.stock, m, 7, first.remember_first_offset, 0)
    assert first.verdict == "applied" and again.verdict == "duplicate"
    assert again.stock.position("st-001").on_hand == 5 and again.ledger == []


def test_a_redelivered_record_reemits_its_ledger_entry_without_reapplying() -> None:
    m = movement(1, "SKU-A1", "st-001", "sale", 2)
    first = apply(SkuStock(sku="SKU-A1"), m, 3, None, 0)
    redelivered = apply(first.stock, m, 3, None, 0)
    assert redelivered.verdict == "redelivered"
    assert redelivered.ledger == first.ledger
    assert redelivered.stock.position("st-001").on_hand == -2


def test_a_count_replaces_on_hand_and_records_the_difference() -> None:
    stock = apply(SkuStock(sku="SKU-A1"), movement(1, "SKU-A1", "st-001", "receipt", 9), 0, None, 0).stock
    outcome = apply(stock, movement(2, "SKU-A1", "st-001", "count", 4), 1, None, 0)
    assert outcome.ledger[0].on_hand_delta == -5 and outcome.ledger[0].on_hand_after == 4


@settings(max_examples=300, deadline=None)
@given(movements)
def test_without_crashes_the_table_equals_the_reference_model(source: list[StockMovement]) -> None:
    worker = Worker(source)
    worker.run(len(source))
    worker.commit(len(source))
    assert final_positions(worker) == replay(source)
    assert set(first_entries(worker.ledger_log.durable)) == {m.event_id for m in source}  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(
    movements,
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60), st.tuples(*[st.integers(0, 80)] * 3)), max_size=4),
)
def test_crashes_with_partial_flushes_neither_lose_nor_repeat_a_movement(
    source: list[StockMovement], crashes: list[tuple[int, int, tuple[int, int, int]]]
) -> None:
    clean = Worker(source)
    clean.run(len(source))
    clean.commit(len(source))
    worker = Worker(source)
    for commit_at, crash_at, keeps in crashes:
        commit_at = min(max(commit_at, worker.committed), len(source))
        crash_at = min(max(crash_at, commit_at), len(source))
        worker.run(commit_at)
        worker.commit(commit_at)
        worker.run(crash_at)
        worker.crash(keeps)
    worker.run(len(source))
    worker.commit(len(source))
    assert final_positions(worker) == replay(source)
    # The sink keeps the first entry per movement id: it must be the one a crash-free run wrote.
    assert first_entries(worker.ledger_log.durable) == first_entries(clean.ledger_log.durable)  # type: ignore[arg-type]


def test_unflushed_entries_are_capped_and_the_oldest_are_dropped_first() -> None:
    from runtime.once import MAX_UNFLUSHED

    stock = SkuStock(sku="SKU-A1")
    dropped = 0
    for offset in range(MAX_UNFLUSHED + 5):
        outcome = apply(stock, movement(offset, "SKU-A1", "st-001", "receipt", 1), offset, None, 0)
        stock, dropped = outcome.stock, dropped + outcome.dropped_unflushed
    assert len(stock.unflushed) == MAX_UNFLUSHED and dropped == 5
    assert min(stock.unflushed) == 5
    assert len(stock.model_dump_json()) < 80 * MAX_UNFLUSHED  # stays far below Kafka's 1 MB record limit


def test_committed_offsets_prune_the_unflushed_entries() -> None:
    stock = SkuStock(sku="SKU-A1")
    for offset in range(10):
        stock = apply(stock, movement(offset, "SKU-A1", "st-001", "receipt", 1), offset, None, 0).stock
    stock = apply(stock, movement(10, "SKU-A1", "st-001", "receipt", 1), 10, None, 8).stock
    assert sorted(stock.unflushed) == [8, 9, 10]
