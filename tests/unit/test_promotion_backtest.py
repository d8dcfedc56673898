"""The promotion backtest replays the snapshot's baskets with a draft: the same report twice, its cost,
its budget's burn, what it changes in the other promotions, and each sale in its stamp's context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analytics import promotion_backtest
from analytics.sql_files import SCHEMA, sql
from streams.pos import PosSale, SaleLine, Tender
from streams.pricing import Budget, Conditions, Coupon, PriceChanged, PromotionDefined, PromotionGroupDefined, Reward
from streams.redemptions import PricingStamp
from tests.unit.fulfilment_factories import project
from tests.unit.pricing_analytics_factories import days, stamp

DAYS = 10


def percent_off(promotion_id: str, sku: str, percent: int, group: str = "default", status: str = "active",
                budget: Budget | None = None, coupon: Coupon | None = None,
                tiers: tuple[str, ...] = ()) -> PromotionDefined:
    return PromotionDefined(
        event_id=f"pd-{promotion_id}", occurred_at=days(-60), source_node="head-office", promotion_id=promotion_id,
        version=1, name=promotion_id, status=status, starts_at=days(-60), ends_at=days(60),  # type: ignore[arg-type]
        conditions=Conditions(skus=[sku], tiers=list(tiers)), reward=Reward(kind="percent_off", percent=percent),
        group=group, budget=budget, coupon=coupon,
    )


def receipt(n: str, at: float, pricing: PricingStamp | None = None, store: str = "st-001") -> PosSale:
    lines = [SaleLine(line_no=1, sku="SKU-001", quantity=1, unit_price_cents=1_000),
             SaleLine(line_no=2, sku="SKU-002", quantity=2, unit_price_cents=500)]
    return PosSale(event_id=f"s-{n}", occurred_at=days(at), source_node=store, receipt_id=f"rc-{n}",
                   terminal_id="t1", cashier_id="c1", lines=lines, tenders=[Tender(method="card", amount_cents=2_000)],
                   pricing=pricing)


def add_sales(db: Path, *sales: PosSale) -> None:
    con = duckdb.connect(str(db))
    project(con, sales)
    con.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A snapshot with two SKUs' prices, a 10 % promotion on SKU-002 in a `best` group, and 10 days of
    sales: three receipts a day, each one SKU-001 (10.00) and two SKU-002 (5.00)."""
    path = tmp_path / "analytics.duckdb"
    con = duckdb.connect(str(path))
    for name in SCHEMA:
        con.execute(sql(name))
    book = [
        PriceChanged(event_id=f"pc-{sku}", occurred_at=days(-90), source_node="head-office", sku=sku,
                     price_cents=cents, effective_from=days(-90))
        for sku, cents in (("SKU-001", 1_000), ("SKU-002", 500))
    ]
    book.append(PromotionGroupDefined(event_id="pg-weekly", occurred_at=days(-90), source_node="head-office",  # type: ignore[arg-type]
                                      group_id="weekly", version=1, rank=10, mode="best"))
    book.append(percent_off("promo-old", "SKU-002", 10, group="weekly"))  # type: ignore[arg-type]
    sales = [receipt(f"{day}-{n}", day + n / 10) for day in range(-DAYS + 1, 1) for n in range(3)]
    project(con, [*book, *sales])
    con.close()
    return path


def run(db: Path, draft: PromotionDefined, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        *extra: str) -> tuple[str, dict[str, Any]]:
    file = tmp_path / "draft.json"
    file.write_text(draft.model_dump_json())
    assert promotion_backtest.main(["--days", str(DAYS), "--draft", str(file), "--db", str(db), *extra]) == 0
    out = capsys.readouterr().out
    return out, json.loads(out.splitlines()[-1])


def test_two_runs_of_the_same_draft_on_the_same_snapshot_print_the_same_report(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    draft = percent_off("promo-new", "SKU-001", 20, status="draft", budget=Budget(money_cents=1_000))
    first, _ = run(db, draft, tmp_path, capsys)
    second, _ = run(db, draft, tmp_path, capsys)
    assert first == second


def test_a_draft_with_a_budget_reports_how_soon_it_burns_it_and_the_uses_refused_after(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    draft = percent_off("promo-new", "SKU-001", 20, status="draft", budget=Budget(money_cents=1_000, count=100))
    _, figures = run(db, draft, tmp_path, capsys)
    budget = figures["budget"]
    assert (figures["baskets"], figures["baskets_with_draft"], figures["cost_cents"]) == (30, 5, 1_000)
    assert (budget["money_used_cents"], budget["count_used"], budget["refused_uses"]) == (1_000, 5, 25)
    assert budget["accounts_exhausted"] == 1
    assert budget["exhausted_after_days"] == budget["days_until_exhausted"] == pytest.approx(1.9, abs=0.01)


def test_a_budget_not_burnt_in_the_replay_is_projected_at_its_rate_of_use(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    draft = percent_off("promo-new", "SKU-001", 20, status="draft", budget=Budget(count=60))
    _, figures = run(db, draft, tmp_path, capsys)
    assert figures["budget"]["exhausted_after_days"] is None
    assert figures["budget"]["count_used"] == 30 and figures["budget"]["days_until_exhausted"] == 20.0


def test_a_draft_that_wins_a_best_group_takes_the_other_promotions_cost_away(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    draft = percent_off("promo-new", "SKU-002", 20, group="weekly", status="draft")
    out, figures = run(db, draft, tmp_path, capsys)
    assert figures["cost_cents"] == 30 * 200 and figures["budget"] is None
    assert figures["other_promotions"] == {"promo-old": {"before_cents": 3_000, "after_cents": 0,
                                                         "change_cents": -3_000}}
    assert figures["other_promotions_change_cents"] == -3_000 and "promo-old" in out


def test_quick_replays_only_the_most_recent_baskets(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(promotion_backtest, "QUICK_BASKETS", 6)
    _, figures = run(db, percent_off("promo-new", "SKU-001", 20, status="draft"), tmp_path, capsys, "--quick")
    assert figures["baskets"] == 6 and figures["quick"] and figures["cost_cents"] == 6 * 200


def test_a_promotion_that_is_not_a_draft_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "live.json"
    file.write_text(percent_off("promo-new", "SKU-001", 20).model_dump_json())
    assert promotion_backtest.main(["--days", "1", "--draft", str(file), "--db", str(tmp_path / "x.duckdb")]) == 2
    assert "a backtest takes a draft" in capsys.readouterr().err


def test_a_coupon_draft_applies_to_the_baskets_whose_stamp_carried_its_code_the_same_twice(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    add_sales(db, *[receipt(f"c-{n}", -0.5 + n / 100, stamp(codes=("SPRING10",))) for n in range(4)],
              receipt("c-other", -0.4, stamp(codes=("WINTER5",))))
    draft = percent_off("promo-new", "SKU-001", 20, status="draft", coupon=Coupon(codes=["SPRING10"]))
    first, figures = run(db, draft, tmp_path, capsys)
    second, _ = run(db, draft, tmp_path, capsys)
    assert first == second
    assert (figures["baskets"], figures["baskets_with_draft"], figures["cost_cents"]) == (35, 4, 4 * 200)


def test_a_tier_draft_applies_only_to_the_baskets_priced_for_that_tier(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    add_sales(db, receipt("t-1", -0.5, stamp(tier="gold")), receipt("t-2", -0.4, stamp(tier="gold")),
              receipt("t-3", -0.3, stamp(tier="silver")), receipt("t-4", -0.2, stamp()))
    _, figures = run(db, percent_off("promo-new", "SKU-001", 20, status="draft", tiers=("gold",)), tmp_path, capsys)
    assert (figures["baskets"], figures["baskets_with_draft"]) == (34, 2)


def test_a_per_customer_budget_counts_each_stamped_customers_baskets_together_in_any_store(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    add_sales(db, *[receipt(f"k-{n}", -0.5 + n / 100, stamp(customer="cus-1"), store=f"st-00{n + 1}")
                    for n in range(3)],
              receipt("k-9", -0.1, stamp(customer="cus-2")))
    draft = percent_off("promo-new", "SKU-001", 20, status="draft", budget=Budget(count=1, scope="customer"))
    _, figures = run(db, draft, tmp_path, capsys)
    # the 30 unstamped receipts know no customer: a per-customer budget cannot apply to them
    assert (figures["baskets_with_draft"], figures["budget"]["count_used"], figures["budget"]["refused_uses"],
            figures["budget"]["accounts"]) == (2, 2, 2, 2)
