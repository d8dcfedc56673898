"""Command line: `python -m broker fetch|start|stop|status|logs` (see docs/broker.md)."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from broker import jars
from broker.config import ENV_BOOTSTRAP, settings_from_env
from broker.launcher import (
    START_TIMEOUT_S,
    broker_status,
    ensure_broker,
    log_tail,
    stop_broker,
)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Progress goes to stderr so `export KAFKA_BOOTSTRAP=$(python -m broker start)` captures only the address.
    logging.basicConfig(level=logging.INFO, format="broker: %(message)s", stream=sys.stderr)
    try:
        return int(args.run(args))
    except (RuntimeError, ValueError) as error:
        print(f"broker: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m broker", description="Local Kafka broker for Omnistream.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="download the Kafka jars with Maven").set_defaults(run=_fetch)
    start = commands.add_parser("start", help="start (or reuse) the broker and print its bootstrap address")
    start.add_argument(
        "--timeout",
        type=float,
        default=START_TIMEOUT_S,
        help="seconds to wait for readiness",
    )
    start.set_defaults(run=_start)
    commands.add_parser("stop", help="stop the broker this launcher started").set_defaults(run=_stop)
    commands.add_parser("status", help="exit 0 if the broker runs, 1 if not").set_defaults(run=_status)
    logs = commands.add_parser("logs", help="print the end of broker.log")
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.set_defaults(run=_logs)
    return parser


def _fetch(args: argparse.Namespace) -> int:
    settings = settings_from_env()
    print(jars.fetch_jars(settings))
    return 0


def _start(args: argparse.Namespace) -> int:
    print(ensure_broker(timeout_s=args.timeout).bootstrap)
    return 0


def _stop(args: argparse.Namespace) -> int:
    stop_broker()
    return 0


def _status(args: argparse.Namespace) -> int:
    status = broker_status()
    state = "running" if status.running else "not running"
    if status.running and not status.answering:
        state = "running but not answering yet"
    print(f"state:     {state}")
    print(f"pid:       {status.pid if status.pid is not None else '-'}")
    print(f"bootstrap: {status.bootstrap}")
    print(f"data dir:  {status.data_dir if status.data_dir is not None else f'- ({ENV_BOOTSTRAP} is set)'}")
    return 0 if status.running else 1


def _logs(args: argparse.Namespace) -> int:
    settings = settings_from_env()
    if not settings.log_file.exists():
        print(f"broker: no log yet at {settings.log_file}", file=sys.stderr)
        return 1
    print(log_tail(settings, args.lines), end="")
    if args.follow:
        _follow(settings.log_file)
    return 0


def _follow(path: Path) -> None:
    with open(path, errors="replace") as handle:
        handle.seek(0, 2)
        while True:
            line = handle.readline()
            if line:
                print(line, end="", flush=True)
            else:
                time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
