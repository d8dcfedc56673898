"""1,000 concurrent checkouts race for a 100-use coupon and a 500.00 budget, a worker SIGKILLed mid-run."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.pricing.budgets import account_sku
from ops.processes import get_json, post_json
from streams.codec import decode, encode
from streams.pos import PosSale, SaleLine, Tender
from streams.redemptions import PricingStamp
from streams.topics import POS_TRANSACTIONS, PRICING_USES
from tests.conftest import Pipeline
from tests.integration.kafka_io import producer, read_to_end, wait_for
from tests.integration.pricing_world import SKUS, book, publish_book

pytestmark = pytest.mark.integration
CHECKOUTS, USES, BUDGET = 1_000, 100, 50_000
COUPON_ACCOUNT = account_sku("WELCOME|coupon|total", "coupon")
MONEY_ACCOUNT = account_sku("SHOES10|money|chain|all", "money")


def checkout(urls: list[str], n: int) -> dict[str, Any]:
    body = {"basket_id": f"race-{n}", "channel": "web", "node": "web", "coupon_codes": ["WELCOME"], "hold": True,
            "lines": [{"line_no": 1, "sku": SKUS[0], "quantity": 3}]}
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # a dead or moving worker: the same basket again, elsewhere
        try:
            status, answer = post_json(urls[(n + int(time.monotonic())) % len(urls)] + "/baskets/price/", body,
                                       timeout=20)
        except OSError:  # refused, reset or timed out: the worker died under the request
            status = 0
        if status == 201:
            return answer
        time.sleep(0.5)
    raise AssertionError(f"checkout {n} got no answer in 240 s")


def sale_of(answer: dict[str, Any]) -> PosSale:
    lines = [SaleLine(line_no=x["line_no"], sku=x["sku"], quantity=x["quantity"],
                      unit_price_cents=x["unit_price_cents"], discount_cents=x["discount_cents"])
             for x in answer["lines"]]
    return PosSale(event_id=f"sale-{answer['basket_id']}", occurred_at=datetime.now(UTC), source_node="web",
                   receipt_id=answer["basket_id"], terminal_id="web", cashier_id="web", lines=lines,
                   tenders=[Tender(method="card", amount_cents=sum(x.net_cents for x in lines))],
                   pricing=PricingStamp.model_validate(answer["stamp"]))


def position(url: str, sku: str) -> dict[str, Any] | None:
    status, body = get_json(f"{url}/stock/{sku}/", timeout=5)
    return body["nodes"].get("chain") if status == 200 and body else None


def test_a_thousand_checkouts_use_the_coupon_exactly_100_times_and_never_overrun_the_budget_through_a_sigkill(
    pipeline: Pipeline,
) -> None:
    bootstrap = pipeline.env["KAFKA_BOOTSTRAP"]
    workers = []
    for name in ("worker-a", "worker-b"):
        workers.append(pipeline.worker(name).start())
        workers[-1].wait_healthy()
    publish_book(bootstrap, pipeline.prefix, book(datetime.now(UTC), coupon_uses=USES, budget_cents=BUDGET))
    urls = [f"http://127.0.0.1:{w.env['OMNI_WEB_PORT']}" for w in workers]
    for url in urls:
        wait_for(lambda url=url: get_json(f"{url}/pricing/book/")[1], lambda b: bool(b) and b["promotions"] == 4,
                 120, "every worker's price book")
    done: list[dict[str, Any]] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        answer = checkout(urls, n)
        with lock:
            done.append(answer)

    with ThreadPoolExecutor(24) as pool:
        futures = [pool.submit(one, n) for n in range(CHECKOUTS)]
        wait_for(lambda: len(done), lambda k: k >= 300, 300, "the first 300 checkouts")
        workers[1].kill9()  # mid-run: its partitions (and maybe a budget account) move to worker-a
        time.sleep(5)
        workers[1].start()
        for future in futures:
            future.result()
    assert len({a["basket_id"] for a in done}) == CHECKOUTS
    coupon = [a for a in done if any(p["promotion_id"] == "WELCOME" for p in a["stamp"]["promotions"])]
    money = sum(p["discount_cents"] for a in done for p in a["stamp"]["promotions"] if p["promotion_id"] == "SHOES10")
    assert len(coupon) == USES, f"{len(coupon)} checkouts hold a WELCOME use"
    assert 0 < money <= BUDGET
    assert BUDGET - money < 300, "the budget is spent until less than one basket's discount is left"

    p = producer(bootstrap)
    for answer in done:
        if answer["stamp"]["promotions"]:
            sale = sale_of(answer)
            p.send(f"{pipeline.prefix}{POS_TRANSACTIONS.name}", key=POS_TRANSACTIONS.key_for(sale), value=encode(sale))
    p.flush()
    coupon_left = wait_for(lambda: position(urls[0], COUPON_ACCOUNT), lambda x: bool(x) and x["held"] == 0, 240,
                           "every coupon hold committed")
    money_left = wait_for(lambda: position(urls[0], MONEY_ACCOUNT), lambda x: bool(x) and x["held"] == 0, 240,
                          "every budget hold committed")
    assert coupon_left["on_hand"] == 0, coupon_left
    assert money_left["on_hand"] == BUDGET - money >= 0, money_left
    uses = {}
    for record in read_to_end(bootstrap, f"{pipeline.prefix}{PRICING_USES.name}"):
        used = decode(PRICING_USES, record.value, 1 << 20)
        uses[used.event_id] = used
    redeemed = [u for u in uses.values() if u.promotion_id == "WELCOME" and u.kind == "redeemed"]
    assert len(redeemed) == USES
