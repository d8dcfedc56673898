"""Creates every registered topic (and its dead-letter topic) at start-up; checks the rest."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import ClusterAuthorizationFailedError, TopicAlreadyExistsError, TopicAuthorizationFailedError

from settings import Settings
from streams.topics import ALL_TOPICS, dead_letter_topics

log = logging.getLogger("omnistream.topics")


@dataclass(frozen=True)
class Replication:
    """How many copies every topic of this app has, and how many must hold a write before Kafka
    acknowledges it (producers send with acks=all)."""

    factor: int
    min_insync: int

    @classmethod
    def of(cls, factor: int) -> Replication:
        # 2 of 3: an acknowledged write survives the loss of one broker, and one broker may be down
        # while writes go on. With fewer copies every copy must hold it.
        return cls(factor, 2 if factor >= 3 else 1)


SINGLE = Replication.of(1)


def replication(settings: Settings, admin: KafkaAdminClient) -> Replication:
    """OMNI_REPLICATION_FACTOR, or (0, the default) 3 on a cluster of 3 or more brokers, else one per broker."""
    if settings.replication_factor > 0:
        return Replication.of(settings.replication_factor)
    brokers = len(admin.describe_cluster().get("brokers", []))
    return Replication.of(max(1, min(3, brokers)))


def resolve_replication(settings: Settings) -> Replication:
    """`replication` with an admin client of its own (a worker's start asks once)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap.split(","), client_id=f"{settings.app_id}-admin",
                             **settings.security.kafka_python_kwargs())
    try:
        return replication(settings, admin)
    finally:
        admin.close()


def wanted_topics(settings: Settings, replicas: Replication = SINGLE) -> list[NewTopic]:
    rf, prefix = replicas.factor, settings.topic_prefix
    isr = {"min.insync.replicas": str(replicas.min_insync)}
    topics = [NewTopic(spec.full_name(prefix), spec.partitions, rf, topic_configs={**spec.config(), **isr})
              for spec in ALL_TOPICS]
    topics += [NewTopic(prefix + name, n, rf, topic_configs={**config, **isr}) for name, n, config in
               dead_letter_topics()]
    return topics


def ensure_topics(settings: Settings, changelogs: dict[str, int] | None = None) -> list[str]:
    """Create missing topics; refuse to run if an existing one has another partition count.

    `changelogs` (name -> partitions) are the Faust tables' changelog topics: created here too,
    compacted, so that a table added to a running system has its changelog before the worker
    joins its group (Faust would create it, but a group assignment can run before that and
    leave the worker writing to a topic it sees with no partitions)."""
    admin = KafkaAdminClient(
        bootstrap_servers=settings.bootstrap.split(","),
        client_id=f"{settings.app_id}-admin",
        **settings.security.kafka_python_kwargs(),
    )
    try:
        replicas = replication(settings, admin)
        existing = set(admin.list_topics())
        wanted = wanted_topics(settings, replicas) + [
            NewTopic(name, partitions, replicas.factor,
                     topic_configs={"cleanup.policy": "compact", "min.insync.replicas": str(replicas.min_insync)})
            for name, partitions in (changelogs or {}).items()
        ]
        missing = [t for t in wanted if t.name not in existing]
        if missing:
            log.info("creating %d topics with replication factor %d and min.insync.replicas %d%s", len(missing),
                     replicas.factor, replicas.min_insync,
                     "" if settings.replication_factor else " (from the brokers the cluster has; "
                     "OMNI_REPLICATION_FACTOR fixes it)")
        created = _create(admin, missing)
        _check_partitions(admin, [t for t in wanted if t.name in existing], replicas)
        _wait_until_served(admin, wanted)
        return created
    finally:
        admin.close()


def _create(admin: KafkaAdminClient, missing: list[NewTopic]) -> list[str]:
    created, refused = [], []
    for topic in missing:  # one by one: a race with another worker must not fail the rest
        try:
            admin.create_topics([topic])
            created.append(topic.name)
        except TopicAlreadyExistsError:
            pass
        except (TopicAuthorizationFailedError, ClusterAuthorizationFailedError):
            refused.append(topic.name)  # on a secured cluster only the worker creates topics (broker/acls.py)
    if refused:
        log.warning("not allowed to create %d topics (%s...): waiting for the worker to create them",
                    len(refused), ", ".join(refused[:3]))
    if created:
        log.info("created %d topics: %s", len(created), ", ".join(created))
    return created


def _wait_until_served(admin: KafkaAdminClient, topics: list[NewTopic], timeout_s: float = 60) -> None:
    """Until the broker serves every topic with a leader for each partition.

    A topic another process created a moment ago is listed before its partitions have leaders; a
    consumer group joining then is assigned none of it and only notices minutes later (its next
    metadata refresh), which is how a worker started beside the sink once sat idle."""
    deadline = time.monotonic() + timeout_s
    names = [t.name for t in topics]
    while True:
        described = admin.describe_topics(names)
        ready = {d.get("name", d.get("topic")) for d in described if _served(d)}
        waiting = [n for n in names if n not in ready]
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"topics {', '.join(waiting[:5])} have no partition leaders after {timeout_s:.0f} s: "
                             "is the broker healthy (python -m broker status)?")
        time.sleep(0.5)


def _served(described: dict) -> bool:  # type: ignore[type-arg]
    partitions = described.get("partitions") or []
    leaders = [p.get("leader_id", p.get("leader", -1)) for p in partitions]
    return not described.get("error_code") and bool(partitions) and all(leader >= 0 for leader in leaders)


def _check_partitions(admin: KafkaAdminClient, topics: list[NewTopic], replicas: Replication) -> None:
    if not topics:
        return
    described = admin.describe_topics([t.name for t in topics])
    actual = {d.get("name", d.get("topic")): len(d["partitions"]) for d in described}
    copies = {d.get("name", d.get("topic")): min((len(p.get("replica_nodes", p.get("replicas")) or ())
                                                  for p in d["partitions"]), default=0)
              for d in described}
    fewer = sorted(name for name, n in copies.items() if n < replicas.factor)
    if fewer:  # made on a smaller cluster (or with a smaller OMNI_REPLICATION_FACTOR): one broker's loss loses them
        log.warning("%d topics have fewer than %d replicas (e.g. %s has %d): a broker's loss can lose their "
                    "acknowledged records; reassign them (kafka-reassign-partitions) to %d replicas",
                    len(fewer), replicas.factor, fewer[0], copies[fewer[0]], replicas.factor)
    for topic in topics:
        if actual.get(topic.name) != topic.num_partitions:
            raise SystemExit(
                f"topic {topic.name} has {actual.get(topic.name)} partitions, the registry says "
                f"{topic.num_partitions}. Changing partition counts re-homes keys and breaks "
                "co-partitioned tables: migrate (new topic names or a new OMNI_TOPIC_PREFIX) "
                "instead of altering the topic."
            )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    names = ensure_topics(Settings.from_env())
    print(f"{len(names)} topics created")
