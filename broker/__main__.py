"""Command line: `python -m broker fetch|start|stop|status|logs|acls|rotate [--secure]` (see docs/broker.md)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from broker import acls, jars, secure
from broker.config import ENV_BOOTSTRAP, ENV_SECURE, BrokerSettings, settings_from_env
from broker.launcher import (
    START_TIMEOUT_S,
    broker_status,
    ensure_broker,
    log_tail,
    stop_broker,
    wait_until_ready,
)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Progress goes to stderr so `export KAFKA_BOOTSTRAP=$(python -m broker start)` captures only the address.
    logging.basicConfig(level=logging.INFO, format="broker: %(message)s", stream=sys.stderr)
    logging.getLogger("kafka").setLevel(logging.WARNING)  # its INFO is every connection
    try:
        return int(args.run(args))
    except (RuntimeError, ValueError) as error:
        print(f"broker: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m broker", description="Local Kafka broker for Omnistream.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--secure", action="store_true",
                        help=f"the secured broker: SASL_SSL, SCRAM users and ACLs (also {ENV_SECURE}=1)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="download the Kafka jars with Maven", parents=[common]).set_defaults(run=_fetch)
    start = commands.add_parser("start", help="start (or reuse) the broker and print its bootstrap address",
                                parents=[common])
    start.add_argument(
        "--timeout",
        type=float,
        default=START_TIMEOUT_S,
        help="seconds to wait for readiness",
    )
    start.set_defaults(run=_start)
    commands.add_parser("stop", help="stop the broker this launcher started", parents=[common]).set_defaults(run=_stop)
    commands.add_parser("status", help="exit 0 if the broker runs, 1 if not", parents=[common]).set_defaults(
        run=_status)
    commands.add_parser("secrets", help="secured broker: make its certificates and passwords (no broker started)",
                        parents=[common]).set_defaults(run=_secrets)
    acl = commands.add_parser("acls", help="secured broker: add the users, and make the ACLs for "
                              "OMNI_TOPIC_PREFIX and OMNI_APP_ID those of the map", parents=[common])
    acl.add_argument("--print", action="store_true", help="only print the ACL map as a markdown table")
    acl.set_defaults(run=_acls)
    rotate = commands.add_parser("rotate", help="secured broker: a new SCRAM password for one principal",
                                 parents=[common])
    rotate.add_argument("principal", choices=acls.PRINCIPALS)
    rotate.set_defaults(run=_rotate)
    logs = commands.add_parser("logs", help="print the end of broker.log", parents=[common])
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.set_defaults(run=_logs)
    return parser


def _settings(args: argparse.Namespace) -> BrokerSettings:
    return settings_from_env({**os.environ, ENV_SECURE: "1"} if args.secure else None)


def _fetch(args: argparse.Namespace) -> int:
    print(jars.fetch_jars(_settings(args)))
    return 0


def _start(args: argparse.Namespace) -> int:
    print(ensure_broker(_settings(args), timeout_s=args.timeout).bootstrap)
    return 0


def _stop(args: argparse.Namespace) -> int:
    stop_broker(_settings(args))
    return 0


def _acls(args: argparse.Namespace) -> int:
    from settings import Settings

    app = Settings.from_env()
    if args.print:
        print(acls.markdown_table(acls.rules(app.topic_prefix, app.app_id)), end="")
        return 0
    settings = _secured(args)
    wait_until_ready(settings.bootstrap, START_TIMEOUT_S, settings=settings)
    users = secure.ensure_users(settings)
    added, removed = secure.apply_acls(settings, app.topic_prefix, app.app_id)
    print(f"{len(users)} users and {added} ACLs added, {removed} ACLs the map no longer gives removed")
    return 0


def _secrets(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not settings.secure:
        raise RuntimeError(f"secrets are for the secured broker: pass --secure or set {ENV_SECURE}=1")
    secure.prepare(settings)
    print(settings.secrets_dir)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    path = secure.rotate(_secured(args), args.principal)
    print(f"new password for {args.principal} in {path}; restart its processes", file=sys.stderr)
    return 0


def _secured(args: argparse.Namespace) -> BrokerSettings:
    """The secured broker's settings: ours, or KAFKA_BOOTSTRAP's (containers) with its secrets in OMNI_KAFKA_DATA."""
    settings = _settings(args)
    if not settings.secure:
        raise RuntimeError(f"this command needs the secured broker: pass --secure or set {ENV_SECURE}=1")
    if not settings.secrets_file("admin").exists():
        raise RuntimeError(f"no secrets in {settings.secrets_dir}: start the secured broker first")
    return settings


def _status(args: argparse.Namespace) -> int:
    status = broker_status(_settings(args))
    state = "running" if status.running else "not running"
    if status.running and not status.answering:
        state = "running but not answering yet"
    print(f"state:     {state}")
    print(f"pid:       {status.pid if status.pid is not None else '-'}")
    print(f"bootstrap: {status.bootstrap}")
    print(f"data dir:  {status.data_dir if status.data_dir is not None else f'- ({ENV_BOOTSTRAP} is set)'}")
    return 0 if status.running else 1


def _logs(args: argparse.Namespace) -> int:
    settings = _settings(args)
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
