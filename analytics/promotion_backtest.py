"""`python -m analytics.promotion_backtest --days N --draft FILE.json [--db PATH] [--quick]`: a draft, replayed.

Replays the baskets of the last N days of sales in the analytics snapshot (till receipts and
online orders, `fct_sales_lines`: `BasketPriced` carries no lines), each in the context its
pricing stamp names (`fct_sale_pricing`: tier, customer, coupon codes, region, currency), through
the pricing function, once with the price book as the sink saw it (`fct_book_entries`) and once
with the draft `PromotionDefined` (a JSON file, `status` draft) added as active, and reports what the draft
would have cost (its discount and points), how many baskets it touched, how fast it would burn
its budget, and how it moved the other promotions' cost through stacking. The same snapshot and
draft always print the same report; the last line is the report as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from pydantic import TypeAdapter, ValidationError
from tqdm import tqdm

from analytics.promotion_replay import Pricer, Progress, Replay, replay
from analytics.sql_files import sql
from domain.pricing.basket import Basket, BasketLine, PricingContext
from domain.pricing.price import price
from settings import Settings
from streams.pricing import BookEvent, PromotionDefined

QUICK_BASKETS = 2_000  # --quick: the most recent baskets only
DRAFT_PUBLISHED = datetime(2000, 1, 1, tzinfo=UTC)  # a draft file without a date is in force throughout
BOOK: TypeAdapter[BookEvent] = TypeAdapter(BookEvent)
Baskets = list[tuple[Basket, PricingContext]]
STAMPED = ("tier", "customer_id", "coupon_codes", "region", "currency")  # a sale's pricing stamp (fct_sale_pricing)


def load_draft(path: Path) -> PromotionDefined:
    """The draft promotion in `path`; the envelope may be left out (a fixed id and date stand in)."""
    body = json.loads(path.read_text())
    body.setdefault("event_id", f"draft-{body.get('promotion_id', 'promotion')}")
    body.setdefault("occurred_at", DRAFT_PUBLISHED.isoformat())
    body.setdefault("source_node", "head-office")
    draft = PromotionDefined.model_validate(body)
    if draft.status != "draft":
        raise ValueError(f"{path} holds a promotion with status {draft.status!r}; a backtest takes a draft")
    return draft


def load_book(con: duckdb.DuckDBPyConnection) -> list[BookEvent]:
    return [BOOK.validate_json(payload) for _, payload in con.execute(sql("promotion_backtest_book")).fetchall()]


def load_baskets(con: duckdb.DuckDBPyConnection, days: int, limit: int | None = None) -> Baskets:
    """The baskets of the `days` days up to the newest sale, oldest first (the `limit` most recent)."""
    lines = con.sql(sql("promotion_backtest_baskets"), params={"days": days}).pl()
    baskets = lines.group_by("event_id", maintain_order=True).agg(
        pl.col("document_id", "channel", "node", "has_customer", "occurred_at", *STAMPED).first(),
        pl.col("line_no", "sku", "quantity"),
    ).sort("occurred_at", "event_id")
    if limit is not None:
        baskets = baskets.tail(limit)
    return [_basket(row) for row in baskets.iter_rows(named=True)]


def _basket(row: dict[str, Any]) -> tuple[Basket, PricingContext]:
    """A sale as checkout or the till priced it: in its stamp's context (tier, customer, region, currency)
    with its stamp's coupon codes; a sale without a stamp in its channel and node alone."""
    lines = tuple(BasketLine(n, sku, q) for n, sku, q in zip(row["line_no"], row["sku"], row["quantity"], strict=True))
    context = PricingContext(at=row["occurred_at"].astimezone(UTC), channel=row["channel"], node=row["node"],
                             currency=row["currency"] or "EUR", tier=row["tier"], region=row["region"],
                             customer_id=_customer(row))
    return Basket(row["document_id"], lines, coupon_codes=tuple(row["coupon_codes"] or ())), context


def _customer(row: dict[str, Any]) -> str | None:
    """The customer the stamp priced for. Without one the facts keep whether a customer was known, not
    who: each known one then stands alone (per-customer budgets count per purchase)."""
    if row["customer_id"] is not None:
        return str(row["customer_id"])
    return f"customer-of-{row['event_id']}" if row["has_customer"] else None


def report(result: Replay, draft: PromotionDefined, days: int, quick: bool) -> dict[str, Any]:
    """The figures, rounded, in plain types: what is printed and what the JSON line holds."""
    start = (result.last_at - timedelta(days=days)) if result.last_at and not quick else result.first_at
    covered = (result.last_at - start).total_seconds() / 86_400 if result.last_at and start else 0.0
    others = sorted(set(result.before) | set(result.after))
    changes = {p: {"before_cents": result.before.get(p, 0), "after_cents": result.after.get(p, 0),
                   "change_cents": result.after.get(p, 0) - result.before.get(p, 0)} for p in others}
    return {
        "draft": draft.promotion_id, "version": draft.version, "days": days, "quick": quick,
        "from": start.isoformat() if start else None, "to": result.last_at.isoformat() if result.last_at else None,
        "baskets": result.baskets, "baskets_with_draft": result.with_draft, "baskets_changed": result.changed,
        "baskets_with_unknown_skus": result.unknown_skus,
        "cost_cents": result.draft_discount_cents, "bonus_points": result.draft_points, "uses": result.with_draft,
        "replaced_version_cost_cents": result.replaced_discount_cents,
        "budget": _budget(result, draft, start, covered),
        "other_promotions_change_cents": sum(c["change_cents"] for c in changes.values()),
        "other_promotions": {p: c for p, c in changes.items() if c["change_cents"]},
    }


def _budget(result: Replay, draft: PromotionDefined, start: datetime | None, covered: float) -> dict[str, Any] | None:
    budget, kept = draft.budget, result.budget
    if budget is None or kept is None:
        return None
    used = {kind: sum(v for name, v in kept.used.items() if name.split("|")[1] == kind) for kind in ("money", "count")}
    first = min(kept.exhausted_at.values(), default=None)
    after = round((first - start).total_seconds() / 86_400, 2) if first and start else None
    limits = {"money": budget.money_cents, "count": budget.count}
    rates = [limit / (used[kind] / covered) for kind, limit in limits.items() if limit and used[kind] > 0 and covered]
    projected = after if after is not None else (round(min(rates), 1) if rates and budget.period == "all" else None)
    return {
        "money_cents": budget.money_cents, "count": budget.count, "scope": budget.scope, "period": budget.period,
        "money_used_cents": used["money"], "count_used": used["count"], "accounts": len(kept.limits | kept.used),
        "accounts_exhausted": len(kept.exhausted_at), "refused_uses": kept.refused,
        "exhausted_after_days": after, "days_until_exhausted": projected,
    }


def render(figures: dict[str, Any]) -> str:
    f, b = figures, figures["budget"]
    lines = [
        f"Promotion backtest: draft {f['draft']} v{f['version']} over {f['baskets']:,} baskets "
        f"from {f['from']} to {f['to']}" + (" (quick: the most recent only)" if f["quick"] else ""),
        f"  cost (discount given)      {f['cost_cents'] / 100:,.2f}",
        f"  bonus points               {f['bonus_points']:,}",
        f"  baskets with the draft     {f['baskets_with_draft']:,} ({f['baskets_changed']:,} baskets' totals changed)",
    ]
    if f["replaced_version_cost_cents"]:
        lines.append(f"  its earlier version gave   {f['replaced_version_cost_cents'] / 100:,.2f}")
    if b is not None:
        lines += [
            f"  budget ({b['scope']}, {b['period']})   money {_money(b['money_cents'])} used "
            f"{b['money_used_cents'] / 100:,.2f}; count {b['count'] or 'none'} used {b['count_used']:,}",
            f"  budget exhausted           {_exhausted(b)}; {b['refused_uses']:,} uses refused, "
            f"{b['accounts_exhausted']} of {b['accounts']} accounts exhausted",
        ]
    lines.append(f"  other promotions' cost     {f['other_promotions_change_cents'] / 100:+,.2f} (stacking)")
    for promotion_id, c in sorted(f["other_promotions"].items(), key=lambda i: (i[1]["change_cents"], i[0]))[:10]:
        lines.append(f"    {promotion_id:<24} {c['before_cents'] / 100:>12,.2f} -> {c['after_cents'] / 100:>12,.2f}")
    return "\n".join(lines) + "\n"


def _money(cents: int | None) -> str:
    return f"{cents / 100:,.2f}" if cents else "none"


def _exhausted(b: dict[str, Any]) -> str:
    if b["exhausted_after_days"] is not None:
        return f"after {b['exhausted_after_days']:g} days"
    if b["days_until_exhausted"] is not None:
        return f"not yet; at this rate after {b['days_until_exhausted']:g} days"
    return "not in the replay"


def backtest(db: Path, draft: PromotionDefined, days: int, quick: bool = False, pricer: Pricer = price,
             progress: tqdm | None = None) -> dict[str, Any]:
    """The report's figures: the snapshot's baskets priced by `pricer`, the function every till and worker uses."""
    with duckdb.connect(str(db), read_only=True) as con:
        entries = load_book(con)
        baskets = load_baskets(con, days, QUICK_BASKETS if quick else None)
    tick: Progress | None = None
    if progress is not None:
        progress.total = len(baskets)
        tick = progress.update
    return report(replay(baskets, entries, draft, pricer, tick), draft, days, quick)


def main(argv: Sequence[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m analytics.promotion_backtest", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, required=True, help="days of baskets, up to the newest sale")
    parser.add_argument("--draft", type=Path, required=True, help="the draft PromotionDefined, as JSON")
    parser.add_argument("--db", type=Path, default=settings.analytics_path,
                        help=f"the analytics snapshot, opened read-only (default: {settings.analytics_path})")
    parser.add_argument("--quick", action="store_true", help=f"only the {QUICK_BASKETS:,} most recent baskets")
    args = parser.parse_args(argv)
    try:
        draft = load_draft(args.draft)
    except (OSError, ValueError, ValidationError) as err:
        print(f"promotion_backtest: {err}", file=sys.stderr)
        return 2
    if not args.db.exists():
        print(f"promotion_backtest: no analytics snapshot at {args.db} (is the sink running? --db)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    with tqdm(desc="pricing baskets", unit=" baskets", file=sys.stderr, disable=None) as bar:
        figures = backtest(args.db, draft, args.days, args.quick, progress=bar)
    sys.stdout.write(render(figures))
    print(f"took {time.perf_counter() - started:.1f} s", file=sys.stderr)
    sys.stdout.write(json.dumps(figures, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
