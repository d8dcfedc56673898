"""Command line: `python -m broker fetch|start|stop|kill|status|logs|acls|rotate [--secure | --nodes 3 [--node N]]`
(see docs/broker.md)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from broker import acls, jars, secure
from broker.config import (
    ENV_BOOTSTRAP,
    ENV_CONTROLLER_PORT,
    ENV_NODES,
    ENV_SECURE,
    BrokerSettings,
    settings_from_env,
)
from broker.launcher import (
    START_TIMEOUT_S,
    broker_status,
    cluster_status,
    ensure_broker,
    kill_node,
    log_tail,
    start_node,
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
    common.add_argument("--nodes", type=int, metavar="N",
                        help=f"a local cluster of N nodes, e.g. 3 (also {ENV_NODES}=N; default 1)")
    one = argparse.ArgumentParser(add_help=False)
    one.add_argument("--node", type=int, metavar="I", help="only node I of the cluster (1 to N)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="download the Kafka jars with Maven", parents=[common]).set_defaults(run=_fetch)
    start = commands.add_parser("start", help="start (or reuse) the broker or cluster and print its bootstrap "
                                "address; with --node I only that node of the cluster", parents=[common, one])
    start.add_argument(
        "--timeout",
        type=float,
        default=START_TIMEOUT_S,
        help="seconds to wait for readiness",
    )
    start.set_defaults(run=_start)
    commands.add_parser("stop", help="stop the broker (every node, or --node I) this launcher started",
                        parents=[common, one]).set_defaults(run=_stop)
    commands.add_parser("kill", help="SIGKILL one node of the cluster (--node I), as a crash would",
                        parents=[common, one]).set_defaults(run=_kill)
    commands.add_parser("status", help="exit 0 if the broker (every node) runs, 1 if not",
                        parents=[common]).set_defaults(run=_status)
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
    logs = commands.add_parser("logs", help="print the end of broker.log (of node I: --node I)", parents=[common, one])
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.set_defaults(run=_logs)
    return parser


def _settings(args: argparse.Namespace) -> BrokerSettings:
    env = dict(os.environ)
    if args.secure:
        env[ENV_SECURE] = "1"
    if args.nodes is not None:
        env[ENV_NODES] = str(args.nodes)
    settings = settings_from_env(env)
    node = getattr(args, "node", None)
    if node is not None:
        if not settings.cluster:
            raise ValueError(f"--node is for a cluster: pass --nodes N too (or set {ENV_NODES}=N)")
        settings.node(node)  # refuses a node outside the cluster
    return settings


def _fetch(args: argparse.Namespace) -> int:
    print(jars.fetch_jars(_settings(args)))
    return 0


def _start(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.node is not None:
        start_node(settings, args.node, timeout_s=args.timeout)
        print(settings.bootstrap)
        return 0
    print(ensure_broker(settings, timeout_s=args.timeout).bootstrap)
    return 0


def _stop(args: argparse.Namespace) -> int:
    settings = _settings(args)
    stop_broker(settings, args.node)
    cluster = _unnamed_cluster(args, settings)
    if cluster is not None:  # `make stop` names no cluster: one this launcher runs on the same first port stops too
        stop_broker(cluster)
    return 0


def _unnamed_cluster(args: argparse.Namespace, settings: BrokerSettings) -> BrokerSettings | None:
    """The local cluster on the same first port, when the command named no node count (no --nodes, no
    OMNI_KAFKA_NODES) and one has been started there; None otherwise."""
    if args.nodes is not None or ENV_NODES in os.environ or settings.external_bootstrap or settings.secure:
        return None
    env = {**os.environ, ENV_NODES: "3"}
    for name in (ENV_SECURE, ENV_CONTROLLER_PORT):  # a single node's controller port is not the cluster's
        env.pop(name, None)
    try:
        nodes = len(list(settings_from_env(env).data.glob("node-*")))
        return settings_from_env({**env, ENV_NODES: str(nodes)}) if nodes >= 3 else None
    except ValueError:  # no cluster fits on these ports
        return None


def _kill(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.node is None:
        raise ValueError("kill needs --node I: the node of the cluster to SIGKILL")
    return 0 if kill_node(settings, args.node) is not None else 1


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
    settings = _settings(args)
    if settings.cluster and not settings.external_bootstrap:
        return _cluster_status(settings)
    status = broker_status(settings)
    cluster = _unnamed_cluster(args, settings)
    if not status.running and cluster is not None and any(s.running for s in cluster_status(cluster)):
        return _cluster_status(cluster)  # `make status` after `OMNI_KAFKA_NODES=3 make demo`
    state = "running" if status.running else "not running"
    if status.running and not status.answering:
        state = "running but not answering yet"
    print(f"state:     {state}")
    print(f"pid:       {status.pid if status.pid is not None else '-'}")
    print(f"bootstrap: {status.bootstrap}")
    print(f"data dir:  {status.data_dir if status.data_dir is not None else f'- ({ENV_BOOTSTRAP} is set)'}")
    return 0 if status.running else 1


def _cluster_status(settings: BrokerSettings) -> int:
    statuses = cluster_status(settings)
    print(f"cluster:   {settings.nodes} nodes at {settings.bootstrap}; data in {settings.data}")
    print(f"topics:    replication factor {settings.replication_factor}, min.insync.replicas "
          f"{settings.min_insync_replicas}")
    for status in statuses:
        state = "running" if status.running else "not running"
        if status.running and not status.answering:
            state = "running, not registered with the controllers (starting, or no quorum)"
        print(f"node {status.node_id}:    {state}; pid {status.pid or '-'}; {status.bootstrap}; {status.data_dir}")
    running = sum(s.running for s in statuses)
    if 0 < running < len(statuses):
        print(f"{len(statuses) - running} node(s) down: start one with `python -m broker start --nodes "
              f"{settings.nodes} --node I`")
    return 0 if running == len(statuses) else 1


def _logs(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings.cluster:
        settings = settings.node(args.node or 1)
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
