"""A Kafka client repeating one error while no broker answers is logged once per 30 s, with a count of the rest."""

from __future__ import annotations

import logging

from ops.logs import REPEAT_EVERY_S, RepeatLimit


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def record(name: str, msg: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_a_client_error_repeated_a_thousand_times_passes_once_then_once_more_with_the_count() -> None:
    clock = Clock()
    limit = RepeatLimit(clock=clock)
    template = "Unable connect to node with id %s: %s"
    passed = [limit.filter(record("aiokafka", template, 1, f"refused {i}")) for i in range(1000)]
    assert passed.count(True) == 1 and passed[0]
    clock.now += REPEAT_EVERY_S - 0.1
    assert not limit.filter(record("aiokafka", template, 1, "refused"))
    clock.now += 0.2
    later = record("aiokafka", template, 1, "refused")
    assert limit.filter(later)
    assert later.getMessage() == ("Unable connect to node with id 1: refused "
                                  f"(1000 more like it held back in the last {REPEAT_EVERY_S:.0f} s)")


def test_other_messages_other_clients_loggers_and_our_own_lines_are_not_held_back() -> None:
    limit = RepeatLimit(clock=Clock())
    assert limit.filter(record("aiokafka.consumer.fetcher", "Failed fetch messages from %s: %s", 1, "x"))
    assert limit.filter(record("aiokafka", "Unable to update metadata from %s", [1]))
    assert limit.filter(record("kafka.net.manager", "Unable to update metadata from %s", [1]))
    assert not limit.filter(record("aiokafka", "Unable to update metadata from %s", [1]))
    for _ in range(5):
        assert limit.filter(record("omnistream.kafka", "still waiting for the cluster", level=logging.WARNING))
        assert limit.filter(record("aiokafkafake", "same"))  # a prefix of the name is not the package
