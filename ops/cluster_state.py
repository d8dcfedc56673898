"""What the Kafka cluster's answer means for Omnistream's writes (acks=all), and what to say when it changes.

Pure: no client, no clock, no log call. `ops/cluster_watch.py` asks the cluster and hands the
answer here; the tests hand it made-up answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OK = "ok"
DEGRADED = "degraded"  # replicas missing from an ISR, every partition still takes acks=all writes
WAITING = "waiting for the cluster"  # unreachable, or partitions that take no acks=all write
CHECKING = "checking"  # before the first answer

REMIND_EVERY_S = 30.0  # while the cluster stays bad, the log says so again at most this often


@dataclass(frozen=True)
class Partition:
    topic: str
    index: int
    leader: int  # -1: no leader (offline)
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


@dataclass(frozen=True)
class ClusterView:
    """One answer of the cluster: the brokers it serves with, and this app's partitions."""

    brokers: frozenset[int]
    controller: int | None
    partitions: tuple[Partition, ...]
    min_isr: Mapping[str, int]  # topic -> its min.insync.replicas, where it could be read


@dataclass(frozen=True)
class Verdict:
    state: str
    reachable: bool
    brokers: int = 0
    controller: int | None = None
    partitions: int = 0
    under_replicated: int = 0  # ISR smaller than the replica list
    under_min_isr: int = 0  # led, but ISR below min.insync.replicas: acks=all writes wait
    offline: int = 0  # no leader: nothing is read or written
    missing_brokers: tuple[int, ...] = ()  # hold replicas of this app's partitions, not among the brokers
    error: str | None = None  # why the cluster did not answer, for a person


def brokers_from(described: Mapping[str, Any], answers: Callable[[str, int], bool] = lambda host, port: True,
                 ) -> frozenset[int]:
    """The brokers serving in kafka-python's `describe_cluster()` answer: not fenced, and (`answers`)
    taking connections at the address they advertise."""
    return frozenset(int(b["broker_id"]) for b in described.get("brokers") or ()
                     if not b.get("is_fenced") and answers(str(b.get("host")), int(b.get("port") or 0)))


def controller_from(described: Mapping[str, Any]) -> int | None:
    controller = described.get("controller_id")
    return None if controller is None or controller < 0 else int(controller)


def partitions_from(described: Iterable[Mapping[str, Any]]) -> list[Partition]:
    """kafka-python's `describe_topics()` answer as partitions (3.x field names, or 2.x ones)."""
    found = []
    for topic in described:
        name = topic.get("name", topic.get("topic"))
        for p in topic.get("partitions") or ():
            found.append(Partition(
                topic=str(name),
                index=int(p.get("partition_index", p.get("partition", 0))),
                leader=int(p.get("leader_id", p.get("leader", -1))),
                replicas=tuple(p.get("replica_nodes", p.get("replicas")) or ()),
                isr=tuple(p.get("isr_nodes", p.get("isr")) or ()),
            ))
    return found


def min_isr(replicas: int, configured: int | None) -> int:
    """A topic's min.insync.replicas; when it could not be read, 2 on three replicas or more
    (what Omnistream runs with on a cluster) and 1 below."""
    if configured is not None:
        return configured
    return 2 if replicas >= 3 else 1


def judge(view: ClusterView) -> Verdict:
    """The state of this app's partitions on the cluster: ok, degraded or waiting for the cluster.

    A replica on a broker that does not serve counts as out of sync, and a partition it leads as
    offline, whatever the metadata says: with two of three combined nodes dead there is no
    controller to shrink the ISRs or move the leaders, and the survivor's metadata still shows
    every partition led and in sync while no acks=all write can complete."""
    offline = under_min = under_replicated = 0
    hosts: set[int] = set()
    for p in view.partitions:
        hosts.update(p.replicas)
        isr = [r for r in p.isr if r in view.brokers]
        if p.leader < 0 or p.leader not in view.brokers:
            offline += 1
        elif len(isr) < min_isr(len(p.replicas), view.min_isr.get(p.topic)):
            under_min += 1
        if len(isr) < len(p.replicas):
            under_replicated += 1
    state = WAITING if offline or under_min else DEGRADED if under_replicated else OK
    return Verdict(state=state, reachable=True, brokers=len(view.brokers), controller=view.controller,
                   partitions=len(view.partitions), under_replicated=under_replicated, under_min_isr=under_min,
                   offline=offline, missing_brokers=tuple(sorted(hosts - view.brokers)))


def unreachable(error: str) -> Verdict:
    return Verdict(state=WAITING, reachable=False, error=error)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _missing(v: Verdict) -> str:
    if not v.missing_brokers:
        return "no broker missing: replicas catching up"
    ids = ", ".join(map(str, v.missing_brokers))
    return f"broker {ids} missing" if len(v.missing_brokers) == 1 else f"brokers {ids} missing"


def summary(v: Verdict, still: bool = False) -> str:
    """One sentence on the cluster for a person (the log, /health, the dashboard's banner);
    `still`: said again while it lasts."""
    again = "still " if still else ""
    if v.state == CHECKING:
        return "not checked yet"
    if not v.reachable:
        return f"{again}waiting for the cluster: {v.error}; writes are held until it returns"
    if v.state == WAITING:
        parts = [f"{_count(v.under_min_isr, 'partition')} under min ISR" if v.under_min_isr else "",
                 f"{_count(v.offline, 'partition')} offline" if v.offline else ""]
        return (f"{again}waiting for the cluster: {', '.join(p for p in parts if p)} ({_missing(v)}); "
                "acks=all writes to them are held until brokers return")
    if v.state == DEGRADED:
        return (f"Kafka {again}degraded: {_count(v.under_replicated, 'partition')} under-replicated "
                f"({_missing(v)}); writes go on")
    if not v.partitions:
        return f"{_count(v.brokers, 'broker')}, no partitions of this app yet"
    return f"{_count(v.brokers, 'broker')}, all {_count(v.partitions, 'partition')} of this app in sync"


Line = tuple[int, str]  # a logging level and the message


class Narrator:
    """Decides what the log says about the cluster: one line when its state changes, a reminder
    at most every `remind_every_s` while it stays bad, and one when it is back. The caller
    passes the time (monotonic seconds) of each answer."""

    def __init__(self, remind_every_s: float = REMIND_EVERY_S) -> None:
        self.remind_every_s = remind_every_s
        self.bad_since: float | None = None  # when the cluster stopped being ok
        self.unreachable_since: float | None = None
        self._said: tuple[object, ...] | None = None  # what the last line was about
        self._said_at = 0.0

    def bad_for_s(self, now: float) -> float:
        return 0.0 if self.bad_since is None else max(0.0, now - self.bad_since)

    def unreachable_for_s(self, now: float) -> float:
        return 0.0 if self.unreachable_since is None else max(0.0, now - self.unreachable_since)

    def observe(self, v: Verdict, now: float) -> Line | None:
        """Take the verdict answered at `now`; the line to log, if any."""
        about = (v.state, v.reachable, v.missing_brokers)  # counts move while partitions catch up: not news
        changed = about != self._said
        if v.state == OK:
            was_bad_for = self.bad_for_s(now) if self.bad_since is not None else None
            self.bad_since = self.unreachable_since = None
            if not changed:
                return None
            self._remember(about, now)
            if was_bad_for is None:
                return logging.INFO, f"Kafka cluster: {summary(v)}, controller {v.controller}"
            return logging.INFO, (f"Kafka cluster back: {_count(v.brokers, 'broker')}, all partitions in sync "
                                  f"after {was_bad_for:.0f} s")
        if self.bad_since is None:
            self.bad_since = now
        if not v.reachable and self.unreachable_since is None:
            self.unreachable_since = now
        elif v.reachable:
            self.unreachable_since = None
        if not changed and now - self._said_at < self.remind_every_s:
            return None
        self._remember(about, now)
        held = self.bad_for_s(now)
        text = summary(v, still=not changed)
        return logging.WARNING, text + (f" (for {held:.0f} s)" if held >= 1 else "")

    def _remember(self, about: tuple[object, ...], now: float) -> None:
        self._said, self._said_at = about, now
