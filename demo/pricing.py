"""The demo's pricing story: a till prices and sells a basket offline with a promotion and a coupon, the web agrees,
and the budget shows what was leased, held and spent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

from domain.pricing.budgets import account_sku
from ops.clock import Clock
from ops.processes import get_json, post_json
from settings import REPO_ROOT, Settings
from sim.producer import connect
from streams.codec import encode
from streams.pricing import Budget, Conditions, Coupon, PromotionDefined, Reward
from streams.topics import PRICING_CHANGES

STORE_OFFER, COUPON, CODE = "DEMO-STORE10", "DEMO-TILL5", "TILL5"


def promotions(settings: Settings) -> list[PromotionDefined]:
    now = Clock.from_settings(settings.clock_shift, settings.clock_file).now()
    window: dict[str, Any] = {"occurred_at": now, "source_node": "head-office", "starts_at": now - timedelta(hours=1),
                              "ends_at": now + timedelta(days=7), "version": int(now.timestamp())}
    return [
        PromotionDefined(event_id=f"demo-{STORE_OFFER}-{int(now.timestamp())}", promotion_id=STORE_OFFER,
                         name="10% off in stores while 1,000.00 lasts", conditions=Conditions(channels=["store"]),
                         reward=Reward(kind="percent_off", percent=10), budget=Budget(money_cents=100_000), **window),
        PromotionDefined(event_id=f"demo-{COUPON}-{int(now.timestamp())}", promotion_id=COUPON,
                         name=f"5.00 off with {CODE}, 100 uses", group="coupons",
                         reward=Reward(kind="amount_off", target="order", amount_cents=500),
                         coupon=Coupon(codes=[CODE], uses_total=100), **window),
    ]


def till_story(settings: Settings, store: str, sku: str, till_client: dict[str, str]) -> None:
    """Leases and a sale at `store`'s till (calling as `till_client`: OMNI_HTTP_CLIENT/TOKEN), priced by the web too."""
    url = f"http://127.0.0.1:{settings.web_port}"
    before = (get_json(f"{url}/pricing/book/")[1] or {}).get("version", 0)
    producer = connect(settings)
    for promo in promotions(settings):
        producer.send(PRICING_CHANGES.full_name(settings.topic_prefix), key=PRICING_CHANGES.key_for(promo),
                      value=encode(promo))
    producer.flush()
    deadline = time.monotonic() + 60
    while (get_json(f"{url}/pricing/book/")[1] or {}).get("version", 0) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    folder = settings.data_dir.parent / "till" / store
    synced = _till(till_client, "sync", "--dir", str(folder), "--worker", url, "--store", store,
                   "--lease", f"{STORE_OFFER}:money=5000", "--lease", f"{COUPON}:uses=10")
    print(f"\nTill at {store}: price book version {synced['version']} saved to {folder}; leases "
          f"{STORE_OFFER} 50.00 and {COUPON} 10 uses taken for offline use")
    basket_id = f"demo-{store}-{int(time.time())}"
    sold = _till(till_client, "price", "--dir", str(folder), "--store", store, "--lines", f"{sku}:2", "--coupon", CODE,
                 "--basket-id", basket_id, "--sell")
    _print_basket(f"Priced offline at the till (python -m till price ... --sell), {sku} x2 with coupon {CODE}", sold)
    status, web = post_json(f"{url}/baskets/price/", {"basket_id": basket_id, "channel": "store", "node": store,
                                                      "coupon_codes": [CODE],
                                                      "lines": [{"line_no": 1, "sku": sku, "quantity": 2}]})
    same = status == 200 and all(web[k] == sold[k] for k in ("lines", "applied", "total_cents"))
    print(f"The worker prices the same basket: total {web.get('total_cents', 0) / 100:.2f} "
          f"({'identical' if same else 'DIFFERENT: ' + json.dumps(web)[:300]})")
    _till(till_client, "flush", "--dir", str(folder))
    time.sleep(3)
    print("Budget accounts after the sale reached the centre (python -m till flush):")
    for name, kind, limit in ((f"{STORE_OFFER}|money|chain|all", "money", "1,000.00"),
                              (f"{COUPON}|coupon|total", "coupon", "100 uses")):
        position = (get_json(f"{url}/stock/{account_sku(name, kind)}/")[1] or {}).get("nodes", {}).get("chain", {})
        amount = (lambda n: f"{n / 100:,.2f}") if kind == "money" else (lambda n: f"{n} uses")
        left, held, free = (position.get(k, 0) for k in ("on_hand", "held", "atp"))
        print(f"  {name.split('|')[0]:<14} limit {limit:<9} left {amount(left):>10}  held (leases, checkouts) "
              f"{amount(held):>8}  free {amount(free):>10}")


def _print_basket(title: str, answer: dict[str, Any]) -> None:
    print(title)
    for line in answer["lines"]:
        print(f"  {line['sku']:<12} {line['quantity']:>3} x {line['unit_price_cents'] / 100:>8.2f}  "
              f"discount {line['discount_cents'] / 100:>7.2f}  net {line['net_cents'] / 100:>8.2f}")
    for applied in answer["applied"]:
        print(f"  applied  {applied['promotion_id']:<16} -{applied['discount_cents'] / 100:.2f}")
    for rejected in answer["rejected"][:5]:
        print(f"  rejected {rejected['promotion_id']:<16} {rejected['reason']}")
    print(f"  total {answer['total_cents'] / 100:.2f} (subtotal {answer['subtotal_cents'] / 100:.2f}, "
          f"discount {answer['discount_cents'] / 100:.2f}), book version {answer['snapshot_version']}")


def _till(client: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "till", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **client})
    if done.returncode != 0:
        raise RuntimeError(f"python -m till {args[0]} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])



