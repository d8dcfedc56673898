"""The candidate search: single nodes first, then splits of up to `max_split` nodes, within the check budget. Pure.

For each size k the nodes are taken best first (most lines, then nearest, then id), as many
as keep every k-combination within the budget left; a combination is a plan when together
its nodes have every line. Each line goes to the nearest node of the plan that has it, and a
plan where a node gets nothing is left to the smaller k that has it. The search stops at the
first k with a plan: a further parcel costs more than any saving a larger split finds.
Lines are bits of a mask, so coverage and assignment are a few integer operations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from heapq import nsmallest
from itertools import combinations
from math import comb
from operator import itemgetter

from domain.fulfilment.costs import Tariff, km_between
from domain.fulfilment.eligibility import Eliminated, Line, Screened
from domain.fulfilment.slots import SLOTS_AHEAD, Site, Slot, Window, reach
from streams.fulfilment import ProfileDefined

CRITERIA = ("promise", "shipments", "cost", "distance", "warehouse_share")
SHOWN = 10  # candidates a decision lists, the winner first
WHY_NOT: dict[str, str] = {
    "closed": f"no open slot in the next {SLOTS_AHEAD} h before the promise",
    "no_capacity": "every open slot before the promise is full",
    "too_far_for_promise": "cannot be ready before it closes today",
}


@dataclass(slots=True)
class Leg:
    """One node's shipment of a plan; `lines` index the order's lines."""

    site: Site
    lines: tuple[int, ...]
    units: int
    slot: Slot
    km: float
    cost: int
    promised_ts: float
    capacity_units: int
    missed: float  # 1.0 when it arrives after the promise
    not_from_warehouse: int  # its units, unless a warehouse sends them


Scored = tuple[tuple[object, ...], tuple[str, ...], tuple[Leg, ...], tuple[float, ...], float | None]


@dataclass(slots=True)
class Plan:
    nodes: tuple[str, ...]
    legs: tuple[Leg, ...]
    values: tuple[float, ...]  # in CRITERIA order
    score: float | None
    key: tuple[object, ...]

    @property
    def cost(self) -> int:
        return int(self.values[2])

    @property
    def km(self) -> float:
        return self.values[3]


@dataclass(slots=True)
class Found:
    plans: list[Plan] = field(default_factory=list)  # the best `SHOWN`, best first
    scored: int = 0
    eliminated: list[Eliminated] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)  # plans scored but not kept, by why
    budget_spent: bool = False  # plans were left unscored
    narrowed: bool = False  # the budget left nodes out of a split's combinations


class Search:
    """One decision's search: distances, slots and shipments already worked out, plans scored."""

    def __init__(self, screened: Screened, lines: tuple[Line, ...], w: Window, tariff: Tariff,
                 profile: ProfileDefined, point: tuple[float, float, float] | None) -> None:
        self.screened, self.lines, self.w, self.tariff, self.profile = screened, lines, w, tariff, profile
        self.point = point
        self.found = Found()
        self.full = (1 << len(lines)) - 1
        self._out: set[str] = set()
        self._legs: dict[tuple[str, int, bool], Leg | str] = {}
        self._kept: list[Scored] = []  # every plan kept, as tuples: only the best become `Plan`s
        self._masks: dict[int, tuple[tuple[int, ...], int, int]] = {}
        self._key = itemgetter(*(CRITERIA.index(c) for c in profile.criteria))
        self._many = len(profile.criteria) > 1
        weights = profile.weights
        self._weights = tuple(weights.get(c, 0.0) for c in CRITERIA) if profile.mode == "weighted" else None  # type: ignore[call-overload]

    def run(self) -> Found:
        """Single nodes, then splits of 2, 3, ... until a size has a plan or the budget is spent."""
        found = self.found
        serves = self.screened.serves
        singles = set.intersection(*serves) if serves else set()
        self._singles(singles)
        for k in range(2, self.profile.max_split + 1):
            if self._kept or found.budget_spent:
                break
            self._splits(k)
        found.plans = [Plan(nodes=nodes, legs=legs, values=values, score=score, key=key)
                       for key, nodes, legs, values, score in nsmallest(SHOWN, self._kept)]
        found.eliminated.sort()
        return found

    def km(self, node: str) -> float:
        """From the node to the destination (0 without one: a pick-up), worked out once."""
        known = self.screened.km.get(node)
        if known is None:
            point = self.point
            site = self.screened.sites[node]
            known = self.screened.km[node] = 0.0 if point is None else km_between(site.point, point)
        return known

    def _near(self, node: str) -> tuple[float, str]:
        return self.km(node), node

    def _open(self, node: str) -> bool:
        """Whether the node has a slot for one capacity unit; eliminates it (once) if not."""
        slot = reach(self.screened.sites[node], 1, self.w)
        if isinstance(slot, Slot):
            return True
        if node not in self._out:
            self._out.add(node)
            self.found.eliminated.append((node, slot, (), WHY_NOT[slot]))
        return False

    def _splits(self, k: int) -> None:
        """Every k-combination of the best nodes the budget left allows, nodes with most lines first."""
        masks: dict[str, int] = {}
        for j, nodes in enumerate(self.screened.serves):
            for node in nodes:
                masks[node] = masks.get(node, 0) | 1 << j
        ordered = sorted(masks, key=lambda n: (-masks[n].bit_count(), self.km(n), n))
        budget_left = self.profile.check_budget - self.found.scored
        size = 0
        while size < len(ordered) and comb(size + 1, k) <= budget_left:
            size += 1
        pool: list[str] = []
        for node in ordered:  # capacity is checked only for the nodes taken
            if len(pool) == size:
                self.found.narrowed = True
                break
            if self._open(node):
                pool.append(node)
        pool.sort(key=self._near)  # combinations then list each set nearest first, as lines are assigned
        self._consider(combinations(pool, k), masks)

    def _singles(self, nodes: set[str]) -> None:
        found, budget, full = self.found, self.profile.check_budget, self.full
        for node in sorted(nodes, key=self._near):
            if found.scored >= budget:
                found.budget_spent = True
                return
            if not self._open(node):
                continue
            found.scored += 1
            leg = self._leg(node, full, False)
            if isinstance(leg, Leg):
                self._kept.append(self._scored((leg,)))
            else:
                found.dropped[leg] += 1

    def _consider(self, sets: Iterable[tuple[str, ...]], masks: dict[str, int]) -> None:
        found, budget, full = self.found, self.profile.check_budget, self.full
        for nodes in sets:
            if found.scored >= budget:
                found.budget_spent = True
                return
            left, taken = full, []
            for node in nodes:  # nearest first: each line goes to the nearest node that has it
                mine = masks[node] & left
                if not mine:
                    break  # a node with nothing to send: a smaller set has this plan
                taken.append((node, mine))
                left &= ~mine
            if left or len(taken) < len(nodes):
                continue  # together they lack a line, or one of them is not needed
            found.scored += 1
            plan = self._plan(taken)
            if plan is not None:
                self._kept.append(plan)

    def _plan(self, taken: list[tuple[str, int]]) -> Scored | None:
        legs = []
        split = len(taken) > 1
        for node, mine in sorted(taken):
            leg = self._legs.get((node, mine, split))
            if leg is None:
                leg = self._legs[(node, mine, split)] = self._leg(node, mine, split)
            if isinstance(leg, str):
                self.found.dropped[leg] += 1
                return None
            legs.append(leg)
        return self._scored(tuple(legs))

    def _leg(self, node: str, mine: int, split: bool) -> Leg | str:
        """One node's shipment of `mine` (a mask of lines), or why a plan cannot have it: its value is
        below a split's minimum shipment, or the node lacks capacity for the units it would pick."""
        w, tariff = self.w, self.tariff
        site = self.screened.sites[node]
        picked, units, cents = self._picked(mine)
        if split and cents < self.profile.min_shipment_cents:
            return "min_shipment"
        need = units if w.method in site.counts_units else 1
        slot = reach(site, need, w)
        if not isinstance(slot, Slot):
            return "capacity"
        km = self.km(node)
        carrier, transit_s = tariff.carrier(w.method, km, units)
        promised_ts = slot.ready_ts + transit_s
        return Leg(site=site, lines=picked, units=units, slot=slot, km=km,
                   cost=carrier + tariff.handling(site.kind, units), promised_ts=promised_ts, capacity_units=need,
                   missed=1.0 if promised_ts > slot.deadline_ts else 0.0,
                   not_from_warehouse=0 if site.kind == "warehouse" else units)

    def _picked(self, mine: int) -> tuple[tuple[int, ...], int, int]:
        """The lines of a mask, their units and their value."""
        known = self._masks.get(mine)
        if known is None:
            lines = self.lines
            picked = tuple(j for j in range(len(lines)) if mine >> j & 1)
            known = self._masks[mine] = (picked, sum(lines[j][1] for j in picked), sum(lines[j][2] for j in picked))
        return known

    def _scored(self, legs: tuple[Leg, ...]) -> Scored:
        """The plan's criteria and sort key: ranked compares the profile's criteria in order, weighted
        their weighted sum; node ids break ties."""
        missed, cost, km, units, elsewhere = 0.0, self.tariff.split_penalty * (len(legs) - 1), 0.0, 0, 0
        for leg in legs:
            missed = max(missed, leg.missed)
            cost += leg.cost
            km += leg.km
            units += leg.units
            elsewhere += leg.not_from_warehouse
        values = (missed, float(len(legs)), float(cost), km, elsewhere / units)
        nodes = tuple(leg.site.id for leg in legs)
        if self._weights is not None:
            score = sum(weight * value for weight, value in zip(self._weights, values, strict=True))
            return (score, nodes), nodes, legs, values, score
        key = (*self._key(values), nodes) if self._many else (self._key(values), nodes)
        return key, nodes, legs, values, None
