"""Money in integer cents: each currency's cash increment, half-up rounding to it, largest-remainder allocation.

Every promotion's discount is rounded once, as a whole, to its currency's increment (1 cent for
EUR, GBP, USD and SEK; 5 cents for CHF, the Swiss cash rounding), halves up; then it is spread
over the lines it touches by the largest-remainder method, so the shares always add up to it.
"""

from __future__ import annotations

from collections.abc import Sequence

INCREMENTS = {"EUR": 1, "GBP": 1, "USD": 1, "SEK": 1, "CHF": 5}


def increment(currency: str) -> int:
    """The smallest amount a discount in `currency` is rounded to (1 cent unless known otherwise)."""
    return INCREMENTS.get(currency, 1)


def round_half_up(num: int, den: int, step: int) -> int:
    """`num / den` cents (not negative) to the nearest multiple of `step`, halves up."""
    return (2 * num + step * den) // (2 * step * den) * step


def allocate(total: int, weights: Sequence[int], caps: Sequence[int] | None = None) -> list[int]:
    """`total` split over `weights` in proportion, the cents left going to the largest remainders
    (ties to the earlier index); then any share above its cap moves, in index order, to the
    others with room. The caller keeps `total` within the caps' sum."""
    if len(weights) == 1:
        return [total]
    whole = sum(weights)
    if whole <= 0 or total <= 0:
        return [0] * len(weights)
    shares: list[int] = []
    remainders: list[int] = []
    for weight in weights:
        share, remainder = divmod(total * weight, whole)
        shares.append(share)
        remainders.append(remainder)
    left = total - sum(shares)
    if left:
        for i in sorted(range(len(weights)), key=lambda i: -remainders[i])[:left]:
            shares[i] += 1
    if caps is not None:
        _within(shares, caps)
    return shares


def _within(shares: list[int], caps: Sequence[int]) -> None:
    over = 0
    for i, cap in enumerate(caps):
        if shares[i] > cap:
            over += shares[i] - cap
            shares[i] = cap
    for i, cap in enumerate(caps):
        if not over:
            return
        moved = min(cap - shares[i], over)
        shares[i] += moved
        over -= moved
