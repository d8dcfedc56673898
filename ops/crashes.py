"""What a worker does when an agent hits a bug (not bad input: that is dead-lettered).

Faust logs a crashed agent and keeps the worker running, healthy-looking, with the agent's
partitions assigned and nothing consuming them. Instead the worker exits at once, without
committing: its partitions move to another worker (or to itself when restarted) and the record
is delivered again, which the stages are built to survive. A record that crashes every time
keeps the worker in a visible restart loop, with its location in the log, until it is fixed.
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger("omnistream.crash")
EXIT_CODE = 70  # EX_SOFTWARE


def fatal(stage: str, topic: str, partition: int, offset: int, err: BaseException) -> None:
    log.critical(
        "%s failed on %s[%d]@%d: %r. Exiting without committing; the record is retried after a "
        "restart. If it fails every time, fix the bug or move the record to the dead-letter topic.",
        stage, topic, partition, offset, err, exc_info=err,
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(EXIT_CODE)
