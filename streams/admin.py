"""Creates every registered topic (and its dead-letter topic) at start-up; checks the rest."""

from __future__ import annotations

import logging
import time

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import ClusterAuthorizationFailedError, TopicAlreadyExistsError, TopicAuthorizationFailedError

from settings import Settings
from streams.topics import ALL_TOPICS, dead_letter_topics

log = logging.getLogger("omnistream.topics")


def wanted_topics(settings: Settings) -> list[NewTopic]:
    rf = settings.replication_factor
    prefix = settings.topic_prefix
    topics = [NewTopic(spec.full_name(prefix), spec.partitions, rf, topic_configs=spec.config()) for spec in ALL_TOPICS]
    topics += [NewTopic(prefix + name, n, rf, topic_configs=config) for name, n, config in dead_letter_topics()]
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
        existing = set(admin.list_topics())
        wanted = wanted_topics(settings) + [
            NewTopic(name, partitions, settings.replication_factor, topic_configs={"cleanup.policy": "compact"})
            for name, partitions in (changelogs or {}).items()
        ]
        missing = [t for t in wanted if t.name not in existing]
        created = _create(admin, missing)
        _check_partitions(admin, [t for t in wanted if t.name in existing])
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


def _check_partitions(admin: KafkaAdminClient, topics: list[NewTopic]) -> None:
    if not topics:
        return
    described = admin.describe_topics([t.name for t in topics])
    actual = {d.get("name", d.get("topic")): len(d["partitions"]) for d in described}
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
