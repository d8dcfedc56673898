"""The store's budget leases, kept by the till: what each lease may still spend offline."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from domain.pricing.basket import Lease, PricedBasket


@dataclass
class HeldLease:
    lease_id: str
    promotion_id: str
    account: str
    node: str
    kind: str
    amount: int
    valid_until: str
    spent: int = 0


def read(path: Path) -> list[HeldLease]:
    return [HeldLease(**row) for row in json.loads(path.read_text())] if path.exists() else []


def write(path: Path, leases: list[HeldLease]) -> None:
    """Replaced whole (a crash leaves the old file or the new one, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(x) for x in leases], indent=1))
    tmp.replace(path)


def usable(leases: list[HeldLease], at: datetime) -> tuple[Lease, ...]:
    """The leases still valid at `at`, with what is left of each."""
    return tuple(Lease(x.lease_id, x.account, x.node, x.amount - x.spent) for x in leases
                 if datetime.fromisoformat(x.valid_until) > at and x.amount > x.spent)


def spend(leases: list[HeldLease], priced: PricedBasket) -> list[HeldLease]:
    """The leases after a sale priced offline spent from them."""
    spent: dict[str, int] = {}
    for need in priced.needs:
        if need.lease_id is not None:
            spent[need.lease_id] = spent.get(need.lease_id, 0) + need.amount
    return [HeldLease(**{**asdict(x), "spent": x.spent + spent.get(x.lease_id, 0)}) for x in leases]
