"""Log lines a person can read, or one JSON object per line when LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# Client libraries narrate every connection at INFO; a person running Omnistream wants ours.
QUIET = ("kafka", "aiokafka", "faust.transport", "mode", "faust.tables", "faust.assignor")


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
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {name: {"level": "WARNING"} for name in QUIET},
    }


def setup(fmt: str, level: str) -> None:
    import logging.config

    logging.config.dictConfig(logging_config(fmt, level))
