"""Capacity and budget SKUs in DuckDB: named as the domain names them, kept out of the stock views; capacity_use
reads the capacity ones."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from analytics import reconcile
from analytics.store import Projection
from dashboard.snapshot import query_rows
from domain.fulfilment.capacity import LETTER, PREFIX, capacity_sku
from domain.pricing import budgets
from tests.unit.fulfilment_factories import AT, availability, batch_of, hold, ledger, model, project, slot


@pytest.mark.parametrize("method", sorted(LETTER))
def test_the_sql_names_capacity_skus_as_the_domain_does(method: str) -> None:
    con = model()
    sku = capacity_sku("st-0042", method, AT + timedelta(hours=7))  # type: ignore[arg-type]
    got = con.execute("select capacity_prefix(), is_capacity_sku(?), capacity_method(?), capacity_slot(?), "
                      "is_capacity_sku('SKU-00042')", [sku, sku, sku]).fetchone()
    assert got == (PREFIX, True, method, AT + timedelta(hours=7), False)


@pytest.mark.parametrize("kind", sorted(budgets.LETTER))
def test_the_sql_names_budget_skus_as_the_domain_does(kind: str) -> None:
    con = model()
    sku = budgets.account_sku(f"promo-1|{kind}|chain|all", kind)
    lookalike = "BUD-GET-TABLE"  # a product named like the prefix is stock, as budgets.is_budget says
    got = con.execute("select budget_prefix(), is_budget_sku(?), budget_kind(?), is_budget_sku(?), "
                      "is_merchandise_sku(?), is_merchandise_sku(?)", [sku, sku, lookalike, sku, lookalike]).fetchone()
    assert got == (budgets.PREFIX, budgets.is_budget(sku), kind, budgets.is_budget(lookalike), False, True)


BUDGET = budgets.account_sku("promo-1|money|chain|all", "money")


def stock_and_capacity() -> list[Any]:
    """A store with a merchandise SKU, a ship slot of its capacity opened, held and used, and a promotion's
    money budget at `chain` opened, held and spent."""
    cap = slot("st-001")
    return [
        ledger(6, BUDGET, "chain", "receipt", 100_000, 100_000),
        availability(4, BUDGET, "chain", on_hand=100_000, held=250),
        hold("b1", "basket-1", BUDGET, "chain", "granted"),
        ledger(7, BUDGET, "chain", "hold_commit", -250, 99_750),
        ledger(1, "SKU-001", "st-001", "receipt", 10, 10),
        ledger(2, "SKU-001", "st-001", "sale", -4, 6),
        availability(1, "SKU-001", "st-001", on_hand=6, held=0),
        ledger(3, cap, "st-001", "receipt", 10, 10),  # the slot opened with 10
        availability(2, cap, "st-001", on_hand=10, held=5),  # plans held 5
        hold("p1", "or-1", cap, "st-001", "granted"),
        ledger(4, cap, "st-001", "hold_commit", -2, 8),  # a shipment of 2 left
        availability(3, cap, "st-001", on_hand=8, held=3),
        ledger(5, slot("wh-01", "pickup", 2), "wh-01", "receipt", 4, 4),  # opened, untouched
    ]


def test_capacity_and_budget_skus_stay_out_of_the_stock_views_the_dashboard_and_analysts_read() -> None:
    con = model()
    project(con, stock_and_capacity())
    for view in ("stock_on_hand", "stock_by_node", "sell_through", "dim_sku"):
        assert con.execute(f"select distinct sku from {view}").fetchall() == [("SKU-001",)], view
    assert [row["sku"] for row in query_rows(con, "dash_skus")] == ["SKU-001"]
    assert query_rows(con, "demo_stock_summary") == [
        {"positions": 1, "units_on_hand": 6, "units_damaged": 0, "positions_below_zero": 0}]
    assert con.execute("select open_holds from stock_by_node").fetchall() == [(0,)]


def test_capacity_use_shows_each_slots_capacity_what_is_held_used_and_free() -> None:
    con = model()
    project(con, stock_and_capacity())
    got = con.execute("select node, method, slot_start, capacity, held, used, free, utilisation from capacity_use")
    assert got.fetchall() == [
        ("st-001", "ship", AT, 10, 3, 2, 5, 0.5),
        ("wh-01", "pickup", AT + timedelta(hours=2), 4, 0, 0, 4, 0.0),
    ]


def test_reconcile_compares_merchandise_with_the_stock_authority_and_leaves_capacity_and_budgets_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    projection = Projection(tmp_path / "omni.duckdb", tmp_path / "analytics.duckdb")
    projection.write(batch_of(stock_and_capacity()).frames(), {})
    projection.publish_snapshot()
    projection.close()
    asked: list[str] = []

    def worker(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        asked.append(url)
        return 200, {"nodes": {"st-001": {"on_hand": 6, "damaged": 0}}}

    monkeypatch.setattr(reconcile, "_get", worker)
    check = reconcile.check_stock(tmp_path / "analytics.duckdb", "http://worker")

    assert asked == ["http://worker/stock/SKU-001/"]
    assert (check.compared, check.drifted, check.status) == (1, 0, "ok")
