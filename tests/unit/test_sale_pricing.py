"""Sales' and orders' pricing stamps in the sink's facts, and the stores' pricing by day: rows in, rows out."""

from __future__ import annotations

from datetime import date

from analytics.batch import PK
from analytics.rows import FACT_TABLES
from streams.orders import OrderPlaced
from streams.pricing import PriceChanged
from tests.unit.fulfilment_factories import model, placed, project
from tests.unit.pricing_analytics_factories import AT, days, sale, stamp, stamped


def stamped_order(order_id: str) -> OrderPlaced:
    pricing = stamp(stamped("promo-1", 300, holds=2), stamped("promo-2", 0, points=50), channel="web",
                    tier="gold", customer="cus-1", codes=("SPRING10",), basket_id="b-9", version=12)
    return placed(order_id, node="wh-01").model_copy(update={"pricing": pricing})


def price_change(n: int, at: float) -> PriceChanged:
    return PriceChanged(event_id=f"pc-{n}", occurred_at=days(at), source_node="head-office", sku=f"SKU-{n:03d}",
                        price_cents=1_000, effective_from=days(at))


def test_the_stamp_facts_are_sink_facts_that_reconcile_and_rebuild_count() -> None:
    assert {"fct_sale_pricing", "fct_sale_promotions"} <= set(FACT_TABLES)
    assert PK["fct_sale_pricing"] == ["event_id"] and PK["fct_sale_promotions"] == ["event_id", "promotion_id"]


def test_a_stamped_till_sale_becomes_a_pricing_row_joined_to_its_lines_and_a_row_per_promotion() -> None:
    con = model()
    pricing = stamp(stamped("promo-1", 200, leases=2), stamped("promo-2", 100, points=30), tier="silver",
                    customer="cus-7", codes=("SPRING10", "VIP-2"), offline=True, region="north", version=8)
    project(con, [sale(1, "SKU-001", 2, 0, pricing=pricing)])
    assert con.execute(
        "select p.purchase_key, p.source_type, p.document_id, p.node, p.basket_id, p.snapshot_version, p.channel, "
        "p.tier, p.customer_id, p.region, p.currency, p.coupon_codes, p.offline, p.promotions, p.discount_cents, "
        "p.bonus_points, p.budget_uses, count(l.line_no) "
        "from fct_sale_pricing p join fct_sales_lines l using (event_id) group by all").fetchall() == [
        ("st-001/rc-1", "pos.sale", "rc-1", "st-001", "b-1", 8, "store", "silver", "cus-7", "north", "EUR",
         ["SPRING10", "VIP-2"], True, ["promo-1", "promo-2"], 300, 30, 2, 1)]
    assert con.execute("select promotion_id, purchase_key, version, discount_cents, bonus_points, lines, budget_uses, "
                       "budget_via, offline from fct_sale_promotions order by promotion_id").fetchall() == [
        ("promo-1", "st-001/rc-1", 1, 200, 0, 1, 2, "lease", True),
        ("promo-2", "st-001/rc-1", 1, 100, 30, 1, 0, None, True)]


def test_a_stamped_order_is_keyed_by_its_order_id_as_the_pricing_stage_keys_it() -> None:
    con = model()
    project(con, [stamped_order("o-1")])
    assert con.execute("select purchase_key, source_type, document_id, node, channel, tier, coupon_codes, "
                       "discount_cents, bonus_points, budget_uses from fct_sale_pricing").fetchall() == [
        ("o-1", "order.placed", "o-1", "wh-01", "web", "gold", ["SPRING10"], 300, 50, 2)]
    assert con.execute("select promotion_id, budget_via from fct_sale_promotions order by 1").fetchall() == [
        ("promo-1", "hold"), ("promo-2", None)]


def test_an_unstamped_sale_has_lines_but_no_pricing_rows_and_a_stamp_without_promotions_has_no_promotion_rows() -> None:
    con = model()
    project(con, [sale(1, "SKU-001", 1, 0), sale(2, "SKU-001", 1, 0, pricing=stamp())])
    assert con.execute("select event_id, promotions, discount_cents from fct_sale_pricing").fetchall() == [
        ("s-2", [], 0)]
    assert con.execute("select count(*) from fct_sale_promotions").fetchone() == (0,)
    assert con.execute("select count(distinct event_id) from fct_sales_lines").fetchone() == (2,)


def test_a_stamped_sale_projected_twice_is_stored_once() -> None:
    con = model()
    events = [sale(1, "SKU-001", 1, 0, pricing=stamp(stamped(), stamped("promo-2"))), stamped_order("o-1")]
    project(con, events)
    project(con, events)
    assert con.execute("select (select count(*) from fct_sale_pricing), "
                       "(select count(*) from fct_sale_promotions)").fetchone() == (2, 4)


def test_pricing_by_store_day_gives_stamped_and_offline_shares_and_versions_behind_the_book_of_the_moment() -> None:
    con = model()
    book = [price_change(n, -1 + n / 100) for n in range(10)]  # ten records the day before: version 10
    book += [price_change(10 + n, 0.25 + n / 1000) for n in range(5)]  # five more at 16:00: version 15
    sales = [
        sale(1, "SKU-001", 1, 0.05, pricing=stamp(version=10)),  # on the latest book
        sale(2, "SKU-001", 1, 0.1, pricing=stamp(version=7, offline=True)),  # 3 behind
        sale(3, "SKU-001", 1, 0.3, pricing=stamp(version=10)),  # after the new records: 5 behind
        sale(4, "SKU-001", 1, 0.35),  # unstamped
        sale(5, "SKU-001", 1, 0.2, node="st-002", pricing=stamp(version=16)),  # ahead of what the sink knows: 0
        sale(6, "SKU-001", 1, 1.1, node="st-002", receipt="rc-1"),  # next day; a receipt id another store also used
    ]
    order = placed("o-1", node="st-001").model_copy(update={"pricing": stamp(channel="web", version=1)})
    project(con, [*book, *sales, order])
    day = AT.date()
    assert con.execute("select * from pricing_by_store_day").fetchall() == [
        (day, "st-001", 4, 3, 0.75, 1, 0.3333, 2, 2.7, 5, 15),
        (day, "st-002", 1, 1, 1.0, 0, 0.0, 0, 0.0, 0, 10),
        (date.fromordinal(day.toordinal() + 1), "st-002", 1, 0, 0.0, 0, None, 0, None, None, 15),
    ]
