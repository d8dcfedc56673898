"""The till CLI: keep the price book, lease budget, price baskets offline, sell, and send the sales later.

    python -m till sync  --dir DIR [--worker URL --store S --lease PROMO:money=5000,uses=20 ...]
    python -m till price --dir DIR --store S --lines SKU:QTY,SKU:QTY [--coupon CODE] [--tier T]
                         [--customer ID] [--basket-id ID] [--sell --cashier C --terminal T]
    python -m till flush --dir DIR

`price` never touches the network: it prices with the saved book and the store's leases, exactly
as the worker does (`domain.pricing.price`), and prints the priced basket as its last line.
`--sell` also writes the sale, stamped with the book version and the leases it spent, to the
outbox, which `flush` publishes to `pos.transactions` once the till is online again.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from domain.pricing.answer import as_json, stamp_for
from domain.pricing.basket import Basket, BasketLine, PricedBasket, PricingContext
from domain.pricing.price import price
from ops.clock import Clock
from settings import Settings
from streams.codec import encode
from streams.pos import PosSale, SaleLine, Tender
from streams.topics import POS_TRANSACTIONS
from till import book_file, leases


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    folder = Path(args.dir)
    if args.command == "sync":
        n = book_file.sync(settings, folder / "book.jsonl")
        book = book_file.load(folder / "book.jsonl", settings.max_event_bytes)
        print(f"price book: {n} records, version {book.version}", file=sys.stderr)
        if args.lease:
            with _locked(folder):
                _lease(args, folder, settings.http_headers())
        print(json.dumps({"records": n, "version": book.version}))
        return 0
    if args.command == "flush":
        return _flush(settings, folder)
    return _price(args, settings, folder)


def _price(args: argparse.Namespace, settings: Settings, folder: Path) -> int:
    with _locked(folder):  # one sale at a time spends the store's leases
        return _price_locked(args, settings, folder)


def _price_locked(args: argparse.Namespace, settings: Settings, folder: Path) -> int:
    book = book_file.load(folder / "book.jsonl", settings.max_event_bytes)
    now = Clock.from_settings(settings.clock_shift, settings.clock_file).now() if args.at is None else _at(args.at)
    held = leases.read(folder / "leases.json")
    context = PricingContext(at=now, channel="store", node=args.store, currency=args.currency, tier=args.tier,
                             region=args.region, customer_id=args.customer, offline=True,
                             leases=leases.usable(held, now))
    lines = tuple(BasketLine(n, sku, int(qty)) for n, (sku, qty) in
                  enumerate((item.split(":") for item in args.lines.split(",")), start=1))
    basket = Basket(args.basket_id or f"till-{uuid.uuid4().hex[:12]}", lines, coupon_codes=tuple(args.coupon))
    priced = price(basket, context, book)
    answer = as_json(priced)
    if args.sell:
        sale = _sale(args, priced, context, basket)
        leases.write(folder / "leases.json", leases.spend(held, priced))  # first: a crash between never overspends
        with (folder / "outbox.jsonl").open("ab") as out:
            out.write(b"\n" + encode(sale) + b"\n")  # its own line even after a write cut short
        answer["sale"] = {"receipt_id": sale.receipt_id, "event_id": sale.event_id, "queued": True}
    print(json.dumps(answer))
    return 0


def _sale(args: argparse.Namespace, priced: PricedBasket, context: PricingContext, basket: Basket) -> PosSale:
    stamp = stamp_for(priced, context, basket.coupon_codes, {})
    lines = [SaleLine(line_no=x.line_no, sku=x.sku, quantity=x.quantity, unit_price_cents=x.unit_price_cents,
                      discount_cents=x.discount_cents) for x in priced.lines]
    return PosSale(
        event_id=f"{args.store}-{basket.basket_id}", occurred_at=context.at, source_node=args.store,
        receipt_id=basket.basket_id, terminal_id=args.terminal, cashier_id=args.cashier, lines=lines,
        tenders=[Tender(method="card", amount_cents=sum(x.net_cents for x in priced.lines))], pricing=stamp,
    )


def _flush(settings: Settings, folder: Path) -> int:
    from kafka import KafkaProducer

    from sim.producer import producer_config  # the simulator's producer settings: idempotent, acks=all
    sending = folder / "outbox.sending.jsonl"
    with _locked(folder, "flush.lock"):  # one flush at a time: it owns outbox.sending.jsonl until it is sent
        with _locked(folder):  # sales sold from now on queue in a new outbox; a crashed flush's file is sent again
            outbox = folder / "outbox.jsonl"
            if outbox.exists():
                with sending.open("ab") as out:
                    out.write(outbox.read_bytes())
                outbox.unlink()
        rows, torn = _rows(sending)
        producer = KafkaProducer(**{**producer_config(settings), "client_id": f"{settings.app_id}-till"})
        topic = POS_TRANSACTIONS.full_name(settings.topic_prefix)
        for row in rows:
            producer.send(topic, key=json.loads(row)["source_node"].encode(), value=row)
        producer.flush()
        producer.close()
        if torn:  # kept for a person to look at, never sent half
            with (folder / "outbox.unreadable.jsonl").open("ab") as out:
                out.write(b"\n".join(torn) + b"\n")
        sending.unlink(missing_ok=True)  # a sale sent twice (a crash before this) has the same event id: applied once
    print(json.dumps({"sent": len(rows), "unreadable": len(torn)}))
    return 0


def _rows(path: Path) -> tuple[list[bytes], list[bytes]]:
    """The outbox's sales, and the lines that are not one (a write cut short by a crash)."""
    rows, torn = [], []
    for row in path.read_bytes().splitlines() if path.exists() else []:
        if not row.strip():
            continue
        try:
            json.loads(row)["source_node"]
            rows.append(row)
        except (ValueError, KeyError, TypeError):
            torn.append(row)
    return rows, torn


@contextmanager
def _locked(folder: Path, name: str = "till.lock") -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _lease(args: argparse.Namespace, folder: Path, auth: dict[str, str]) -> None:
    """Lease each --lease from the worker as this till's client (OMNI_HTTP_CLIENT of scope till, for --store)."""
    held = leases.read(folder / "leases.json")
    for spec in args.lease:
        promotion_id, _, amounts = spec.partition(":")
        # The till names the lease request, so a retry after a lost answer gets the same lease, not a second one
        body: dict[str, Any] = {"store": args.store, "promotion_id": promotion_id, "lease_no": uuid.uuid4().hex[:12]}
        for part in filter(None, amounts.split(",")):
            name, _, value = part.partition("=")
            body["money_cents" if name == "money" else "uses"] = int(value)
        request = urllib.request.Request(f"{args.worker.rstrip('/')}/pricing/leases/", json.dumps(body).encode(),
                                         {"Content-Type": "application/json", **auth})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the operator's worker URL)
                granted = json.loads(response.read())
        except urllib.error.HTTPError as err:
            hint = " (set OMNI_HTTP_CLIENT and OMNI_HTTP_TOKEN: a till client of this store)" \
                if err.code in (401, 403) else ""
            raise SystemExit(f"lease {promotion_id}: the worker answered {err.code}: "
                             f"{err.read().decode(errors='replace')[:500]}{hint}") from None
        for x in granted["leases"]:
            if x["answer"] == "granted":
                held.append(leases.HeldLease(x["lease_id"], x["promotion_id"], x["account"], x["node"], x["kind"],
                                             int(x["amount"]), x["valid_until"]))
            print(f"lease {x['lease_id']}: {x['answer']} {x.get('reason') or ''}", file=sys.stderr)
        leases.write(folder / "leases.json", held)  # after each: a later request failing loses none of these


def _at(text: str) -> Any:
    from datetime import datetime
    return datetime.fromisoformat(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m till", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sync = sub.add_parser("sync", help="read the price book topic into DIR/book.jsonl; take budget leases")
    sync.add_argument("--dir", required=True)
    sync.add_argument("--worker", help="a worker's URL, to take leases from")
    sync.add_argument("--store")
    sync.add_argument("--lease", action="append", default=[], help="PROMO:money=CENTS,uses=N")
    flush = sub.add_parser("flush", help="publish the sales queued while offline")
    flush.add_argument("--dir", required=True)
    p = sub.add_parser("price", help="price a basket offline (and sell it with --sell)")
    p.add_argument("--dir", required=True)
    p.add_argument("--store", required=True)
    p.add_argument("--lines", required=True, help="SKU:QTY,SKU:QTY")
    p.add_argument("--coupon", action="append", default=[])
    p.add_argument("--tier")
    p.add_argument("--region", help="the store's price region (region:<name> price list)")
    p.add_argument("--currency", default="EUR")
    p.add_argument("--customer")
    p.add_argument("--basket-id")
    p.add_argument("--at", help="price as of this ISO time (default: now)")
    p.add_argument("--sell", action="store_true")
    p.add_argument("--cashier", default="till-cashier")
    p.add_argument("--terminal", default="till-1")
    return parser


if __name__ == "__main__":
    sys.exit(main())
