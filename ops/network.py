"""Publish the fulfilment network: node definitions, cost tables and sourcing profiles.

    python -m ops.network publish                 # the simulated network, default costs, both profiles
    python -m ops.network publish --dry-run       # print the events as JSON lines instead
    python -m ops.network publish --stores 20 --warehouses 2 --seed 42

Everything goes to `fulfilment.network-versions` keyed `<kind>/<id>@<version>`: publishing
the same versions again changes nothing (compaction keeps one copy; readers keep one per key).
A change is a new version with a later `effective_from`.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import datetime

from domain.fulfilment.defaults import default_costs, network_profile, warehouse_first
from ops.clock import Clock
from settings import Settings
from sim.config import SimConfig
from sim.fulfilment import node_definitions
from sim.network import build_network
from sim.producer import check_topics, connect
from streams.codec import encode
from streams.fulfilment import NetworkEvent
from streams.topics import FULFILMENT_NETWORK


def network_events(config: SimConfig, effective_from: datetime) -> list[NetworkEvent]:
    """The simulated chain's nodes (the same ones a simulated day with this config trades in),
    the default cost tables and both default profiles, all effective from `effective_from`."""
    network = build_network(config, random.Random(f"{config.seed}:network"))
    events: list[NetworkEvent] = [default_costs(effective_from), warehouse_first(effective_from),
                                  network_profile(effective_from)]
    return events + list(node_definitions(network, effective_from))


def publish(events: list[NetworkEvent], settings: Settings) -> None:
    check_topics(settings, create=True)
    producer = connect(settings)
    topic = FULFILMENT_NETWORK.full_name(settings.topic_prefix)
    futures = [producer.send(topic, key=FULFILMENT_NETWORK.key_for(e), value=encode(e)) for e in events]
    producer.flush()
    for future in futures:
        future.get(timeout=30)
    producer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.network", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    pub = sub.add_parser("publish", help="publish the simulated network, default costs and profiles")
    defaults = SimConfig()
    pub.add_argument("--seed", type=int, default=defaults.seed, help="the simulator's seed (same nodes)")
    pub.add_argument("--stores", type=int, default=defaults.stores)
    pub.add_argument("--warehouses", type=int, default=defaults.warehouses)
    pub.add_argument("--dry-run", action="store_true", help="print the events as JSON lines, publish nothing")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    # Effective from a fixed past moment, so the same command always publishes the same versions.
    since = SimConfig().start.replace(year=2020)
    config = SimConfig(seed=args.seed, stores=args.stores, warehouses=args.warehouses)
    events = network_events(config, since)
    if args.dry_run:
        for event in events:
            sys.stdout.write(encode(event).decode() + "\n")
        return 0
    publish(events, settings)
    now = Clock.from_settings(settings.clock_shift, settings.clock_file).now()
    nodes = sum(1 for e in events if e.type == "fulfilment.node_defined")
    topic = FULFILMENT_NETWORK.full_name(settings.topic_prefix)
    print(f"published {nodes} nodes, cost tables and 2 profiles to {topic}"
          f" (active profile: {settings.sourcing_profile}; now {now:%Y-%m-%d %H:%M} UTC)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
