"""Loads SQL models by name from analytics/sql: one model per file, no SQL in Python."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).with_name("sql")

# Macros, then tables, then views that read them.
SCHEMA = (
    "capacity_skus",  # macros the views use
    "budget_skus",
    "sink_offsets",
    "fct_sales_lines",
    "fct_return_lines",
    "fct_stock_movements",
    "fct_order_status",
    "fct_loyalty_entries",
    "fct_tier_changes",
    "fct_customer_purchases",
    "fct_customer_merges",
    "fct_customer_erasures",
    "fct_fraud_alerts",
    "fct_holds",
    "fct_fulfillment",
    "fct_availability",
    "fct_price_changes",
    "fct_fulfilment_decisions",
    "fct_fulfilment_shipments",
    "fct_node_versions",
    "fct_store_responses",
    "fct_transfer_suggestions",
    "fct_priced_baskets",
    "fct_basket_promotions",
    "fct_promotion_uses",
    "fct_pricing_variances",
    "fct_promotion_versions",
    "fct_product_descriptions",
    "fct_book_entries",
    "fct_sale_pricing",
    "fct_sale_promotions",
    "fct_http_request",
    "dead_letters",
    "sink_status",
    "stock_on_hand",
    "sales_by_channel_node_day",
    "order_outcomes",
    "wallet_balances",
    "customer_survivors",
    "customer_purchase_history",
    "customer_tiers",
    "tier_distribution",
    "dim_node",
    "dim_sku",
    "dim_customer",
    "dim_calendar",
    "sales_by_channel_day",
    "stock_by_node",
    "capacity_use",
    "sell_through",
    "pickup_performance",
    "outstanding_points",
    "open_fraud_alerts",
    "fulfilment_summary",
    "resourcings",
    "dim_promotion",
    "promotion_cost",
    "redemptions",
    "budget_burn",
    "uplift",
    "pricing_variances",
    "pricing_by_store_day",
    "http_refusals",
)


@cache
def sql(name: str) -> str:
    path = SQL_DIR / f"{name}.sql"
    if not path.exists():
        raise FileNotFoundError(f"no SQL model {name!r}: expected {path}")
    return path.read_text()
