"""One function per reward kind: what it would take off the qualifying lines' current nets. Pure.

Each answers a `Raw` (the exact discount `num / den` cents and the weights its rounded total is
spread by, one per line position) or a reason it gives nothing. A line's net is split into units
whole cents apart (the first `net % quantity` units a cent dearer), so "the cheapest units" and
`max_applications` (a cap on units for the per-unit kinds, on sets for buy_x_get_y and
bundle_price; order and shipping rewards apply once) stay in integers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from domain.pricing.bundles import bundle_sets
from domain.pricing.rules import Rule
from domain.pricing.unit_prices import Line

Unit = tuple[int, int, int]  # value in cents, line position, how many units
UNLIMITED = 10**9


@dataclass(slots=True)
class Raw:
    num: int
    den: int
    weights: list[tuple[int, int]]  # (line position, weight > 0), positions ascending


Reward = Callable[[Rule, Sequence[int], Sequence[Line], list[int]], "Raw | str"]


def units(qual: Sequence[int], lines: Sequence[Line], nets: list[int]) -> list[Unit]:
    out: list[Unit] = []
    for p in qual:
        q = lines[p].quantity
        if q <= 0:
            continue
        base, extra = divmod(nets[p], q)
        if extra:
            out.append((base + 1, p, extra))
        out.append((base, p, q - extra))
    return out


def pick(pool: list[Unit], limit: int, cheapest: bool) -> list[Unit]:
    """Up to `limit` units, the cheapest or the dearest first (ties to the earlier line)."""
    pool.sort(key=(lambda u: (u[0], u[1])) if cheapest else (lambda u: (-u[0], u[1])))
    out: list[Unit] = []
    for value, p, count in pool:
        if limit <= 0:
            break
        take = min(count, limit)
        out.append((value, p, take))
        limit -= take
    return out


def by_position(parts: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: dict[int, int] = {}
    for p, weight in parts:
        merged[p] = merged.get(p, 0) + weight
    return sorted((p, w) for p, w in merged.items() if w > 0)


def _line_nets(qual: Sequence[int], nets: list[int]) -> list[tuple[int, int]]:
    return [(p, nets[p]) for p in qual if nets[p] > 0]


def percent_off(rule: Rule, qual: Sequence[int], lines: Sequence[Line], nets: list[int]) -> Raw | str:
    if rule.max_applications and rule.target == "items":
        picked = pick(units(qual, lines, nets), rule.max_applications, cheapest=False)
        weights = by_position((p, value * n) for value, p, n in picked)
    else:
        weights = _line_nets(qual, nets)
    return Raw(sum(w for _, w in weights) * rule.percent, 100, weights)


def amount_off(rule: Rule, qual: Sequence[int], lines: Sequence[Line], nets: list[int]) -> Raw | str:
    if rule.target == "order":
        weights = _line_nets(qual, nets)
        return Raw(min(rule.amount, sum(w for _, w in weights)), 1, weights)
    picked = pick(units(qual, lines, nets), rule.max_applications or UNLIMITED, cheapest=False)
    weights = by_position((p, min(rule.amount, value) * n) for value, p, n in picked)
    return Raw(sum(w for _, w in weights), 1, weights)


def fixed_price(rule: Rule, qual: Sequence[int], lines: Sequence[Line], nets: list[int]) -> Raw | str:
    picked = pick(units(qual, lines, nets), rule.max_applications or UNLIMITED, cheapest=False)
    weights = by_position((p, max(0, value - rule.price) * n) for value, p, n in picked)
    return Raw(sum(w for _, w in weights), 1, weights)


def buy_x_get_y(rule: Rule, qual: Sequence[int], lines: Sequence[Line], nets: list[int]) -> Raw | str:
    pool = units(qual, lines, nets)
    sets = sum(n for _, _, n in pool) // (rule.buy + rule.get)
    if rule.max_applications:
        sets = min(sets, rule.max_applications)
    if not sets:
        return "below_quantity"
    picked = pick(pool, sets * rule.get, cheapest=True)
    weights = by_position((p, value * n) for value, p, n in picked)
    return Raw(sum(w for _, w in weights) * rule.percent, 100, weights)


def bundle_price(rule: Rule, qual: Sequence[int], lines: Sequence[Line], nets: list[int]) -> Raw | str:
    sets = bundle_sets(rule, lines, units(qual, lines, nets))
    if not sets:
        return "below_quantity"
    saved = 0
    taken: list[tuple[int, int]] = []
    for value, used in sets:
        if value > rule.price:
            saved += value - rule.price
            taken.extend(used)
    return Raw(saved, 1, by_position(taken))


def spend_x_get_y(rule: Rule, qual: Sequence[int], lines: Sequence[Line], nets: list[int]) -> Raw | str:
    weights = _line_nets(qual, nets)
    spent = sum(w for _, w in weights)
    if spent < rule.threshold:
        return "below_threshold"
    return Raw(min(rule.amount, spent), 1, weights)


REWARDS: dict[str, Reward] = {
    "percent_off": percent_off, "amount_off": amount_off, "fixed_price": fixed_price,
    "buy_x_get_y": buy_x_get_y, "bundle_price": bundle_price, "spend_x_get_y": spend_x_get_y,
}


def shipping(rule: Rule, shipping_net: int) -> Raw:
    """A shipping reward: percent_off or amount_off the shipping left after earlier groups."""
    if rule.kind == "percent_off":
        return Raw(shipping_net * rule.percent, 100, [])
    return Raw(min(rule.amount, shipping_net), 1, [])


def points_of(rule: Rule, qual: Sequence[int], lines: Sequence[Line]) -> int:
    """A bonus_points reward's points: per basket plus per qualifying unit (up to max_applications units)."""
    count = sum(lines[p].quantity for p in qual)
    if rule.max_applications:
        count = min(count, rule.max_applications)
    return rule.points + rule.points_per_unit * count
