"""Batched places decide exactly as the same places one record at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.authority import dedupes_by_id
from domain.movements import BATCH_MAX, batch_places
from domain.stock import Position, SkuStock
from streams.base import Event
from streams.holds import PlaceHold, PlaceHolds, ReleaseHold
from streams.inventory import StockMovement
from tables.stock_once import apply

T0 = datetime(2026, 11, 26, 12, tzinfo=UTC)
SKUS = ("SKU-001", "SKU-002")
NODES = ("st-001", "st-002")

command = st.tuples(
    st.sampled_from(["place", "place", "place", "release", "sale"]),
    st.sampled_from(SKUS), st.sampled_from(NODES), st.integers(1, 3), st.integers(0, 15),
)


def _commands(plan: list[tuple[str, str, str, int, int]]) -> list[Event]:
    out: list[Event] = []
    for n, (kind, sku, node, quantity, target) in enumerate(plan):
        at = T0 + timedelta(seconds=n)
        if kind == "place":
            out.append(PlaceHold(event_id=f"c{n}", occurred_at=at, source_node="web", hold_id=f"h{n}",
                                 order_id=f"o{n}", sku=sku, node=node, quantity=quantity,
                                 expires_at=at + timedelta(minutes=(n % 4) + 1)))
        elif kind == "release":
            out.append(ReleaseHold(event_id=f"c{n}", occurred_at=at, source_node="web", hold_id=f"h{target}",
                                   sku=sku, reason="cancelled"))
        else:
            out.append(StockMovement(event_id=f"c{n}:0", occurred_at=at, source_node=node, sku=sku, node=node,
                                     kind="sale", quantity=-quantity, cause_event_id=f"c{n}", cause_type="pos.sale"))
    return out


def _run(commands: list[Event], redeliver: bool) -> tuple[dict[str, SkuStock], dict[str, str]]:
    stocks = {sku: SkuStock(sku=sku, positions={n: Position(on_hand=6) for n in NODES}) for sku in SKUS}
    first: dict[str, int] = {}
    answers: dict[str, str] = {}  # command id -> the answer about the command's own hold
    for offset, record in enumerate(commands):
        for _ in range(2 if redeliver else 1):
            sku = record.sku  # type: ignore[attr-defined]
            dedupe = dedupes_by_id(record)  # type: ignore[arg-type]
            out = apply(stocks[sku], record, offset, first.get(record.event_id) if dedupe else None, offset)  # type: ignore[arg-type]
            if out.verdict == "applied":
                stocks[sku] = out.stock
            if out.remember_first_offset is not None:
                first[record.event_id] = out.remember_first_offset
            own = {c.event_id: c.hold_id for c in getattr(record, "holds", [record]) if hasattr(c, "hold_id")}
            for answer in out.answers:
                if own.get(answer.command_id) == answer.hold_id:
                    answers.setdefault(answer.command_id, answer.answer)
    return stocks, answers


@settings(max_examples=300, deadline=None)
@given(st.lists(command, max_size=40), st.booleans())
def test_batched_places_decide_and_answer_as_single_places(plan, redeliver) -> None:
    single = _commands(plan)
    batched = batch_places(single)
    stocks_single, answers_single = _run(single, redeliver=False)
    stocks_batched, answers_batched = _run(batched, redeliver)
    for sku in SKUS:
        assert stocks_batched[sku].positions == stocks_single[sku].positions
        strip = {"resolved_offset": None}
        assert {k: h.model_copy(update=strip) for k, h in stocks_batched[sku].holds.items()} == {
            k: h.model_copy(update=strip) for k, h in stocks_single[sku].holds.items()
        }
    assert answers_batched == answers_single
    # Per SKU, the order of every command is kept.
    for sku in SKUS:
        flat = [c for record in batched for c in getattr(record, "holds", [record]) if c.sku == sku]  # type: ignore[attr-defined]
        assert [c.event_id for c in flat] == [c.event_id for c in single if c.sku == sku]  # type: ignore[attr-defined]


def test_a_run_of_places_is_cut_by_another_command_of_its_sku_and_by_the_batch_limit() -> None:
    plan = [("place", "SKU-001", "st-001", 1, 0)] * 3 + [("sale", "SKU-001", "st-001", 1, 0)]
    plan += [("place", "SKU-002", "st-001", 1, 0)] * (BATCH_MAX + 1)
    records = batch_places(_commands(plan))
    kinds = [(type(r).__name__, len(getattr(r, "holds", [r]))) for r in records]
    assert kinds == [("PlaceHolds", 3), ("StockMovement", 1), ("PlaceHolds", BATCH_MAX), ("PlaceHold", 1)]
    assert all(isinstance(r, PlaceHolds) is (len(getattr(r, "holds", [])) > 1) for r in records)
