"""The race's workload on Quix Streams: run by bench.peers in its own venv (Quix pins an older pydantic).

Standalone on purpose: it imports nothing of Omnistream. The rule is bench/peers_workload.py's
`step`, spelled again with Quix's state (`f(value, state)`, RocksDB, changelog per checkpoint).
Usage: python peers_quix_app.py BOOTSTRAP INPUT OUTPUT GROUP STATE_DIR
"""

from __future__ import annotations

import sys

from quixstreams import Application, State

RECENT = 64


def apply(movement: dict, state: State) -> dict:
    current = state.get("stock", None) or {"on_hand": 0, "recent": []}
    duplicate = movement["event_id"] in current["recent"]
    if not duplicate:
        current = {"on_hand": current["on_hand"] + movement["delta"],
                   "recent": [*current["recent"], movement["event_id"]][-RECENT:]}
        state.set("stock", current)
    return {"event_id": movement["event_id"], "sku": movement["sku"], "on_hand": current["on_hand"],
            "duplicate": duplicate}


def main(bootstrap: str, source: str, sink: str, group: str, state_dir: str) -> None:
    app = Application(broker_address=bootstrap, consumer_group=group, auto_offset_reset="earliest",
                      state_dir=state_dir, loglevel="WARNING")
    sdf = app.dataframe(app.topic(source, value_deserializer="json", key_deserializer="str"))
    sdf = sdf.apply(apply, stateful=True)
    sdf.to_topic(app.topic(sink, value_serializer="json", key_serializer="str"))
    print("READY", flush=True)
    app.run()


if __name__ == "__main__":
    main(*sys.argv[1:6])
