"""Log lines a person can read, or one JSON object per line when LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# Client libraries narrate every connection at INFO; a person running Omnistream wants ours.
QUIET = ("kafka", "aiokafka", "faust.transport", "mode", "faust.tables", "faust.assignor")
# Kafka clients repeat the same error for every connection attempt and fetch: while no broker
# answers, one worker's aiokafka clients logged ~700 lines a second. `omnistream.kafka` says
# what it means (ops/cluster_watch.py); these say each of their messages once per REPEAT_EVERY_S.
REPEATING = ("kafka", "aiokafka", "faust.transport")
REPEAT_EVERY_S = 30.0


class RepeatLimit(logging.Filter):
    """Lets a Kafka client's message through once per `every_s` (the first at once), keyed by
    logger and message template; the next one that passes says how many were held back."""

    MAX_KEYS = 1000  # templates are few; messages formatted before logging could be many

    def __init__(self, every_s: float = REPEAT_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.every_s, self.clock = every_s, clock
        self.passed_at: dict[tuple[str, str], float] = {}
        self.held: dict[tuple[str, str], int] = {}
        self.lock = threading.Lock()  # clients log from their own threads (kafka-python's I/O thread)

    def filter(self, record: logging.LogRecord) -> bool:
        if not any(record.name == name or record.name.startswith(name + ".") for name in REPEATING):
            return True
        key, now = (record.name, str(record.msg)), self.clock()
        with self.lock:
            passed = self.passed_at.get(key)
            if passed is not None and now - passed < self.every_s:
                self.held[key] = self.held.get(key, 0) + 1
                return False
            if len(self.passed_at) >= self.MAX_KEYS:
                self.passed_at.clear()
            self.passed_at[key] = now
            held = self.held.pop(key, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like it held back in the last {self.every_s:.0f} s)"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def logging_config(fmt: str, level: str) -> dict[str, Any]:
    """A dictConfig for Faust's `logging_config` and for plain processes alike."""
    formatter = {"()": JsonFormatter} if fmt == "json" else {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {"repeats": {"()": RepeatLimit}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default", "filters": ["repeats"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {name: {"level": "WARNING"} for name in QUIET},
    }


def setup(fmt: str, level: str) -> None:
    import logging.config

    logging.config.dictConfig(logging_config(fmt, level))
