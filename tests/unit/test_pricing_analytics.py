"""Pricing in the sink's facts and views: rows in, rows out on DuckDB, dated from the test clock."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import TypeAdapter

from analytics import columnar
from analytics.rows import FACT_TABLES
from analytics.sink import FACT_SOURCES
from streams.pricing import BookEvent, Budget, PriceChanged, PromotionGroupDefined
from streams.topics import PRICING_BASKETS, PRICING_BOOK, PRICING_USES, PRICING_VARIANCES
from tests.unit.fulfilment_factories import model, project
from tests.unit.pricing_analytics_factories import AT, basket, described, promotion, sale, used, variance

BOOK: TypeAdapter[BookEvent] = TypeAdapter(BookEvent)


def count(con, table: str) -> int:  # type: ignore[no-untyped-def]
    return int(con.execute(f"select count(*) from {table}").fetchone()[0])


def test_the_sink_reads_the_pricing_topics_but_not_the_redemption_commands() -> None:
    assert {PRICING_BOOK, PRICING_USES, PRICING_VARIANCES, PRICING_BASKETS} <= set(FACT_SOURCES)
    assert {PRICING_USES, PRICING_VARIANCES} <= set(columnar.TOPICS)
    assert {"fct_priced_baskets", "fct_basket_promotions", "fct_promotion_uses", "fct_pricing_variances",
            "fct_promotion_versions", "fct_product_descriptions", "fct_book_entries"} <= set(FACT_TABLES)


def test_pricing_events_projected_twice_are_stored_once() -> None:
    con = model()
    events = [promotion(), used(1), variance(1), basket(1, ["promo-1"], [("promo-2", "coupon_missing")]),
              described("SKU-001", "shoes")]
    project(con, events)
    project(con, events)
    assert [count(con, t) for t in ("fct_promotion_versions", "fct_promotion_uses", "fct_pricing_variances",
                                    "fct_priced_baskets", "fct_basket_promotions", "fct_product_descriptions")] == [
        1, 1, 1, 1, 2, 1]


def test_every_book_record_is_kept_whole_so_a_replay_can_rebuild_the_book() -> None:
    con = model()
    price = PriceChanged(event_id="pc-1", occurred_at=AT, source_node="head-office", sku="SKU-001", price_cents=1_000,
                         effective_from=AT, price_list="tier:gold")
    group = PromotionGroupDefined(event_id="pg-1", occurred_at=AT, source_node="head-office", group_id="weekly",
                                  version=1, rank=10, mode="best")
    events = [promotion(), described("SKU-001", "shoes"), price, group]
    project(con, events)
    rows = con.execute("select entry_type, book_key, payload from fct_book_entries order by event_id").fetchall()
    assert [(t, k) for t, k, _ in rows] == [
        ("price.changed", "price/tier:gold/SKU-001@2026-11-26T10:00:00+00:00"),
        ("promotion.defined", "promotion/promo-1@1"),
        ("promotion_group.defined", "group/weekly@1"), ("product.described", "product/SKU-001")]
    assert [BOOK.validate_json(payload) for _, _, payload in rows] == [price, events[0], group, events[1]]


def test_a_priced_basket_unnests_the_promotions_it_applied_and_rejected_and_counts_refused_holds() -> None:
    con = model()
    project(con, [basket(1, ["promo-1", "promo-3"], [("promo-2", "coupon_missing")],
                         holds=[("h1", "BUD-0123456789ABCDEF-M", 200, "granted"),
                                ("h2", "BUD-0123456789ABCDEF-N", 1, "rejected")])])
    assert con.execute("select basket_id, promotions_applied, promotions_rejected, holds, holds_refused, "
                       "discount_cents from fct_priced_baskets").fetchall() == [("b-1", 2, 1, 2, 1, 400)]
    assert con.execute("select promotion_id, outcome, reason from fct_basket_promotions "
                       "order by outcome, promotion_id").fetchall() == [
        ("promo-1", "applied", None), ("promo-3", "applied", None), ("promo-2", "rejected", "coupon_missing")]


def test_the_promotion_dimension_keeps_each_promotions_latest_version_with_its_budget() -> None:
    con = model()
    project(con, [promotion(version=2, percent=30, budget=Budget(money_cents=50_000, scope="store", period="day")),
                  promotion(version=1), promotion("promo-9", status="draft")])
    assert con.execute("select promotion_id, version, versions, kind, status, budget_money_cents, budget_count, "
                       "budget_scope, budget_period, skus from dim_promotion").fetchall() == [
        ("promo-1", 2, 2, "percent_off", "active", 50_000, None, "store", "day", ["SKU-001"]),
        ("promo-9", 1, 1, "percent_off", "draft", None, None, None, None, ["SKU-001"])]
    assert con.execute("select version, percent from fct_promotion_versions where promotion_id = 'promo-1' "
                       "order by version").fetchall() == [(1, 20), (2, 30)]


def test_promotion_cost_nets_returns_on_the_day_they_came_back_and_counts_baskets() -> None:
    con = model()
    project(con, [
        promotion(),
        used(1, discount=200, points=5), used(2, discount=300, at=0.1),
        used(3, kind="returned", discount=-300, uses=-1, at=1, purchase="r-2"),
        used(4, kind="returned", discount=-50, uses=0, at=1, purchase="r-1"),
        basket(1, ["promo-1"]), basket(2, ["promo-1"], at=1), basket(3, [], [("promo-1", "budget_exhausted")]),
    ])
    rows = con.execute("select day, discount_redeemed_cents, discount_returned_cents, discount_cents, discount, "
                       "bonus_points, uses, baskets, priced_baskets from promotion_cost").fetchall()
    day = AT.date()
    assert rows == [(day, 500, 0, 500, 5.0, 5, 2, 2, 1), (day + timedelta(days=1), 0, 350, -350, -3.5, 0, -1, 0, 1)]


def test_redemptions_count_redeemed_returned_and_net_uses_per_promotion_channel_and_store() -> None:
    con = model()
    project(con, [
        promotion(),
        used(1), used(2, node="st-002"), used(3, channel="web", node="wh-01", customer="c-1"),
        used(4, kind="returned", discount=-200, uses=-1, purchase="r-1", at=1),
        used(5, kind="returned", discount=-20, uses=0, purchase="r-2", at=1, node="st-002"),
    ])
    rows = con.execute("select level, channel, node, redeemed, returned, partly_returned, net_uses, discount_cents "
                       "from redemptions").fetchall()
    assert rows == [
        ("promotion", None, None, 3, 1, 1, 2, 380),
        ("channel", "store", None, 2, 1, 1, 1, 180),
        ("node", "store", "st-001", 1, 1, 0, 0, 0),
        ("node", "store", "st-002", 1, 0, 1, 1, 180),
        ("channel", "web", None, 1, 0, 0, 1, 200),
        ("node", "web", "wh-01", 1, 0, 0, 1, 200),
    ]


def test_budget_burn_compares_a_global_budget_with_net_uses_and_says_when_it_is_exhausted() -> None:
    con = model()
    project(con, [
        promotion(budget=Budget(money_cents=1_000, count=3)),
        used(1, discount=400), used(2, discount=400), used(3, discount=400),
        used(4, kind="returned", discount=-400, uses=-1, purchase="r-3", at=1),
        promotion("promo-2", budget=Budget(count=10)),  # not used yet: a row at zero
        promotion("promo-3"),  # no budget: no row
    ])
    rows = con.execute("select promotion_id, scope_key, period_key, budget_money_cents, money_used_cents, "
                       "money_burnt, budget_count, count_used, count_burnt, exhausted from budget_burn").fetchall()
    assert rows == [("promo-1", "chain", "all", 1_000, 800, 0.8, 3, 2, 0.6667, False),
                    ("promo-2", "chain", "all", None, 0, None, 10, 0, 0.0, False)]
    project(con, [used(5, discount=200)])
    assert con.execute("select money_burnt, exhausted from budget_burn where promotion_id = 'promo-1'").fetchall() == [
        (1.0, True)]


def test_budget_burn_splits_a_per_store_daily_budget_by_store_and_utc_day() -> None:
    con = model()
    project(con, [
        promotion(budget=Budget(money_cents=500, scope="store", period="day")),
        used(1, discount=100), used(2, discount=200, node="st-002"), used(3, discount=500, at=1),
    ])
    day = AT.date()
    rows = con.execute("select scope_key, period_key, money_used_cents, money_burnt, exhausted "
                       "from budget_burn").fetchall()
    assert rows == [("st-001", f"{day}", 100, 0.2, False), ("st-001", f"{day + timedelta(days=1)}", 500, 1.0, True),
                    ("st-002", f"{day}", 200, 0.4, False)]


def test_uplift_compares_units_a_day_in_the_window_with_as_many_days_before() -> None:
    con = model()
    project(con, [
        promotion(starts=0, ends=2, skus=("SKU-001",), categories=("socks",)),
        described("SKU-002", "socks"), described("SKU-003", "shoes"),
        sale(1, "SKU-001", 2, -1.5), sale(2, "SKU-002", 2, -0.5), sale(3, "SKU-001", 1, -3),  # before; -3 too early
        sale(4, "SKU-001", 5, 0.5), sale(5, "SKU-002", 3, 1.5), sale(6, "SKU-003", 50, 1),  # during; SKU-003 not its
        sale(7, "SKU-001", 9, 2.5),  # after the window
    ])
    assert con.execute("select days, skus, units_during, units_before, units_per_day_during, units_per_day_before, "
                       "uplift from uplift").fetchall() == [(2.0, 2, 8, 4, 4.0, 2.0, 1.0)]


def test_uplift_of_a_promotion_still_running_is_measured_up_to_the_newest_sale() -> None:
    con = model()
    project(con, [promotion(starts=0, ends=30), sale(1, "SKU-001", 4, -0.5), sale(2, "SKU-001", 6, 0.5),
                  sale(3, "SKU-009", 1, 1)])
    assert con.execute("select days, units_during, units_before, uplift from uplift").fetchall() == [
        (1.0, 6, 4, 0.5)]


def test_pricing_variances_sum_per_store_and_cause_and_show_how_far_behind_tills_were() -> None:
    con = model()
    project(con, [
        variance(1, till=7, centre=10), variance(2, till=9, centre=10, charged=1_100),
        variance(3, cause="unstamped", till=None), variance(4, "st-002", "price_override", till=10, charged=500),
    ])
    rows = con.execute("select store, cause, lines, variance_cents, paid_less_cents, paid_more_cents, "
                       "unstamped_lines, stale_lines, avg_versions_behind, max_versions_behind, "
                       "oldest_till_snapshot_version from pricing_variances").fetchall()
    assert rows == [("st-001", "stale_snapshot", 2, 0, 100, 100, 0, 2, 2.0, 3, 7),
                    ("st-001", "unstamped", 1, -100, 100, 0, 1, 0, None, None, None),
                    ("st-002", "price_override", 1, -500, 500, 0, 0, 0, 0.0, 0, 10)]


def test_days_of_the_views_are_dates() -> None:
    con = model()
    project(con, [used(1)])
    assert isinstance(con.execute("select day from promotion_cost").fetchone()[0], date)  # type: ignore[index]
