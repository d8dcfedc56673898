"""The network as it stood at a moment: the latest version of each node, the cost tables and profiles. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from streams.fulfilment import CostsDefined, NetworkEvent, NodeDefined, ProfileDefined


@dataclass
class NetworkLog:
    """Every version of every node, cost table and profile, in the order they take effect.

    `as_of(t)` is the network a decision at `t` uses: for each node and profile the highest
    version effective at or before `t`. A version published twice (the same key) is kept once.
    """

    nodes: dict[str, list[NodeDefined]] = field(default_factory=dict)
    costs: list[CostsDefined] = field(default_factory=list)
    profiles: dict[str, list[ProfileDefined]] = field(default_factory=dict)
    # as_of's last answer, valid from `at` until the next version takes effect (or a new one arrives)
    _cached: tuple[datetime, datetime | None, Network] | None = field(default=None, repr=False)

    def add(self, event: NetworkEvent) -> None:
        self._cached = None
        match event:
            case NodeDefined():
                _insert(self.nodes.setdefault(event.node_id, []), event)
            case CostsDefined():
                _insert(self.costs, event)
            case ProfileDefined():
                _insert(self.profiles.setdefault(event.profile_id, []), event)

    def as_of(self, at: datetime) -> Network:
        if self._cached is not None:
            since, until, network = self._cached
            if since <= at and (until is None or at < until):
                return network
        network = self._as_of(at)
        versions: list[NodeDefined | CostsDefined] = [v for vs in self.nodes.values() for v in vs]
        later = [_effective(v) for v in [*versions, *self.costs] if _effective(v) > at]
        self._cached = (at, min(later, default=None), network)
        return network

    def _as_of(self, at: datetime) -> Network:
        nodes = {}
        for node_id, versions in self.nodes.items():
            current = _latest(versions, at)
            if current is not None and current.active:
                nodes[node_id] = current
        return Network(nodes=nodes, costs=_latest(self.costs, at))

    def profile(self, profile_id: str, at: datetime, status: str = "active") -> ProfileDefined | None:
        """The highest version of a profile with `status` (draft or active) effective at `at`.
        A profile takes effect when published (`occurred_at`)."""
        versions = [p for p in self.profiles.get(profile_id, []) if p.status == status and p.occurred_at <= at]
        return versions[-1] if versions else None

    def draft(self, profile_id: str) -> ProfileDefined | None:
        versions = [p for p in self.profiles.get(profile_id, []) if p.status == "draft"]
        return versions[-1] if versions else None


@dataclass(frozen=True)
class Network:
    """The network at one moment. `costs` is None until cost tables are published."""

    nodes: dict[str, NodeDefined]
    costs: CostsDefined | None

    def kind_of(self, node: str) -> str | None:
        defined = self.nodes.get(node)
        return defined.kind if defined else None


def _insert(versions: list, event: NodeDefined | CostsDefined | ProfileDefined) -> None:  # type: ignore[type-arg]
    if any(v.version == event.version for v in versions):
        return
    versions.append(event)
    versions.sort(key=lambda v: v.version)


def _latest(versions: list, at: datetime):  # type: ignore[no-untyped-def, type-arg]
    current = None
    for version in versions:
        if _effective(version) <= at:
            current = version
    return current


def _effective(event: NodeDefined | CostsDefined | ProfileDefined) -> datetime:
    return event.occurred_at if isinstance(event, ProfileDefined) else event.effective_from
