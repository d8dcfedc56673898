"""Complete sets of a bundle_price promotion's parts, formed from the dearest units first. Pure.

Each set takes, part by part in the order the promotion lists them, `quantity` of the dearest
units left that match the part (a part with no SKUs or categories takes any qualifying unit),
so a set is worth as much as it can be; sets are formed until one cannot be completed or
`max_applications` is reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.pricing.rules import Part, Rule
    from domain.pricing.unit_prices import Line

Unit = tuple[int, int, int]  # value in cents, line position, how many units
BundleSet = tuple[int, list[tuple[int, int]]]  # its value, and (line position, value) taken from each line


def bundle_sets(rule: Rule, lines: Sequence[Line], pool: list[Unit]) -> list[BundleSet]:
    """Each complete set the basket holds, dearest first."""
    pool = sorted(pool, key=lambda u: (-u[0], u[1]))
    left = [u[2] for u in pool]
    fits = [[i for i, u in enumerate(pool) if _matches(part, lines[u[1]])] for part in rule.parts]
    sets: list[BundleSet] = []
    cap = rule.max_applications or 10**9
    while len(sets) < cap:
        taken = _one_set(rule.parts, pool, left, fits)
        if taken is None:
            break
        sets.append((sum(v for _, v in taken), taken))
    return sets


def _one_set(parts: tuple[Part, ...], pool: list[Unit], left: list[int],
             fits: list[list[int]]) -> list[tuple[int, int]] | None:
    taken: list[tuple[int, int]] = []
    for (_, _, quantity), candidates in zip(parts, fits, strict=True):
        need = quantity
        for i in candidates:
            if not need:
                break
            n = min(left[i], need)
            if n:
                left[i] -= n
                need -= n
                taken.append((pool[i][1], pool[i][0] * n))
        if need:
            return None
    return taken


def _matches(part: Part, line: Line) -> bool:
    skus, categories, _ = part
    return not (skus or categories) or line.sku in skus or line.category in categories
