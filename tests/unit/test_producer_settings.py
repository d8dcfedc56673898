"""Every producer of the project writes with acks=all and idempotence (issue 16): on a cluster with
min.insync.replicas 2, that is what makes an acknowledged write survive a broker's death, and a
retried batch land once."""

from __future__ import annotations

import ast
from pathlib import Path

from faust.transport.drivers import aiokafka as faust_kafka

from runtime import producer_fixes
from settings import REPO_ROOT

PRODUCT = ("agents", "analytics", "dashboard", "demo", "domain", "ops", "runtime", "sim", "streams", "tables",
           "till", "views")
PRODUCERS = {"KafkaProducer", "AIOKafkaProducer"}
SHARED_CONFIGS = {"producer_config"}  # functions returning a whole acks=all, idempotent configuration


def producer_calls() -> list[tuple[Path, ast.Call]]:
    calls = []
    for package in PRODUCT:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                    if name in PRODUCERS:
                        calls.append((path, node))
    return calls


def acknowledged_by_all(call: ast.Call) -> bool:
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    splats = [k.value for k in call.keywords if k.arg is None]
    for splat in splats:  # **{**producer_config(s), "client_id": ...} counts too
        splats += [v for k, v in zip(splat.keys, splat.values, strict=True) if k is None] if isinstance(
            splat, ast.Dict) else []
    if any(isinstance(s, ast.Call) and getattr(s.func, "id", getattr(s.func, "attr", "")) in SHARED_CONFIGS
           for s in splats):
        return True
    acks, idempotent = keywords.get("acks"), keywords.get("enable_idempotence")
    return (isinstance(acks, ast.Constant) and acks.value in ("all", -1)
            and isinstance(idempotent, ast.Constant) and idempotent.value is True)


def test_every_producer_the_product_makes_is_acks_all_and_idempotent() -> None:
    calls = producer_calls()
    assert len(calls) >= 5, "the scan found too few producers: has the layout changed?"
    loose = [f"{path.relative_to(REPO_ROOT)}:{call.lineno}" for path, call in calls if not acknowledged_by_all(call)]
    assert not loose, f"producers without acks=all and enable_idempotence=True: {loose}"


def test_shared_configurations_are_acks_all_and_idempotent() -> None:
    from analytics.balancing import producer_config as balancing
    from settings import Settings
    from sim.producer import producer_config as simulator

    settings = Settings.from_env({})
    for config in (simulator(settings), balancing(settings)):
        assert config["acks"] == "all" and config["enable_idempotence"] is True


def test_fausts_producer_is_made_idempotent() -> None:
    producer_fixes.install()
    extra = faust_kafka.Producer._settings_extra(object())  # type: ignore[arg-type]
    assert extra == {"acks": "all", "enable_idempotence": True}
