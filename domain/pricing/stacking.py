"""How groups of promotions combine: rank order, the group's mode, and exclusive groups. Pure.

Non-exclusive groups apply in (rank, group id) order, each on the nets the earlier ones left.
Within a group (its promotions in priority order, high first, then promotion id): `stack`
applies each in turn on what the previous left; `first_match` applies the first that gives
something, the ones after it are stacked_out; `best` tries each on the group's starting nets
and applies the one that saves most (items, order and shipping discounts; ties to the lower
promotion id), the others that would have applied are stacked_out.

Each exclusive group is tried alone on the list prices. The one saving most (ties to rank, then
group id) is kept alone if it saves strictly more than all the non-exclusive groups together;
otherwise every exclusive group is dropped. Either way the promotions of the side that lost
are exclusive_lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.pricing.index import Group
from domain.pricing.outcome import Basis, Outcome, State, evaluate
from domain.pricing.rules import Rule

Member = tuple[Rule, list[int]]  # a promotion that may apply, and its qualifying line positions
Rejection = tuple[Rule, str]


def settle(runs: Sequence[tuple[Group, list[Member]]], base: State,
           basis: Basis) -> tuple[list[Outcome], list[Rejection]]:
    """The outcomes kept and the promotions rejected along the way; `runs` in (rank, group id) order."""
    state = base.copy()
    plain: list[Outcome] = []
    rejected: list[Rejection] = []
    exclusive: list[tuple[int, Group, list[Outcome]]] = []
    for group, members in runs:
        if group.exclusive:
            outcomes, lost = run_group(group, members, base.copy(), basis)
            exclusive.append((sum(o.saving for o in outcomes), group, outcomes))
        else:
            outcomes, lost = run_group(group, members, state, basis)
            plain.extend(outcomes)
        rejected.extend(lost)
    if not exclusive:
        return plain, rejected
    saving, _, best = min(exclusive, key=lambda e: (-e[0], e[1].rank, e[1].group_id))
    kept = best if saving > sum(o.saving for o in plain) else plain
    losers = [o for o in plain if kept is not plain] + [o for _, _, outs in exclusive if outs is not kept for o in outs]
    rejected.extend((o.rule, "exclusive_lost") for o in losers)
    return kept, rejected


def run_group(group: Group, members: list[Member], state: State, basis: Basis) -> tuple[list[Outcome], list[Rejection]]:
    """One group's promotions on `state`, which the ones applied change."""
    if group.mode == "best":
        return _best(members, state, basis)
    applied: list[Outcome] = []
    rejected: list[Rejection] = []
    for rule, qual in members:
        if applied and group.mode == "first_match":
            rejected.append((rule, "stacked_out"))
            continue
        found = evaluate(rule, qual, state, basis)
        if isinstance(found, str):
            rejected.append((rule, found))
        else:
            found.apply(state)
            applied.append(found)
    return applied, rejected


def _best(members: list[Member], state: State, basis: Basis) -> tuple[list[Outcome], list[Rejection]]:
    tried = [(rule, evaluate(rule, qual, state, basis)) for rule, qual in members]
    won = [o for _, o in tried if isinstance(o, Outcome)]
    if not won:
        return [], [(rule, str(o)) for rule, o in tried]
    best = min(won, key=lambda o: (-o.saving, o.rule.promotion_id))
    best.apply(state)
    return [best], [(rule, o if isinstance(o, str) else "stacked_out") for rule, o in tried if o is not best]
