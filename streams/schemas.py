"""JSON Schemas of every registered topic, generated from the event models; `--check` catches drift."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

from streams.topics import ALL_TOPICS, TopicSpec

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
SUFFIX = ".schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
REGENERATE = "python -m streams.schemas"


def schema_id(spec: TopicSpec) -> str:
    return f"urn:omnistream:topic:{spec.name}"


def file_name(spec: TopicSpec) -> str:
    return f"{spec.name}{SUFFIX}"


def topic_schema(spec: TopicSpec) -> dict[str, Any]:
    """The value schema of one topic: a `oneOf` over its event types, keyed by `type`."""
    generated = spec.adapter.json_schema(mode="validation")
    defs, one_of, discriminator = _split(spec, generated)
    if len(spec.events) > 1:
        _require_type(spec, defs)
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": schema_id(spec),
        "title": spec.name,
        "description": spec.description,
        "x-kafka": _kafka_facts(spec),
        "oneOf": one_of,
    }
    if discriminator is not None:
        schema["discriminator"] = discriminator
    schema["$defs"] = defs
    return schema


def _split(spec: TopicSpec, generated: dict[str, Any]) -> tuple[dict[str, Any], list[Any], Any]:
    """($defs, oneOf, discriminator); a one-event topic's root model moves into $defs too."""
    defs = dict(generated.pop("$defs", {}))
    if "oneOf" in generated:
        return defs, generated["oneOf"], generated.get("discriminator")
    name = spec.events[0].__name__
    defs[name] = generated
    return defs, [{"$ref": f"#/$defs/{name}"}], None


def _require_type(spec: TopicSpec, defs: dict[str, Any]) -> None:
    """The codec needs `type` to pick the event of a multi-event topic, so the schema must too.

    pydantic lists `type` as optional because the model gives it a default; a schema-only
    validator ignores the OpenAPI `discriminator` keyword and would accept a record without it.
    """
    for event in spec.events:
        required = defs[event.__name__].setdefault("required", [])
        if "type" not in required:
            required.insert(0, "type")


def _kafka_facts(spec: TopicSpec) -> dict[str, Any]:
    return {
        "topic": spec.name,
        "key": spec.key,
        "writer": spec.writer,
        "partitions": spec.partitions,
        "config": spec.config(),
        "dead_letter_topic": spec.dlq_name,
    }


def render(spec: TopicSpec) -> str:
    return json.dumps(topic_schema(spec), indent=2, ensure_ascii=False) + "\n"


def expected_files(topics: tuple[TopicSpec, ...] = ALL_TOPICS) -> dict[str, str]:
    """File name to content, for every topic in the registry."""
    return {file_name(spec): render(spec) for spec in topics}


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Writes every schema and removes schema files of topics no longer registered."""
    directory.mkdir(parents=True, exist_ok=True)
    expected = expected_files()
    for stale in sorted(set(_present(directory)) - set(expected)):
        (directory / stale).unlink()
    paths = []
    for name, text in expected.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def drift(directory: Path = SCHEMA_DIR) -> list[str]:
    """One message per schema file that is missing, stale or differs from the models."""
    expected = expected_files()
    present = _present(directory)
    problems = [f"{directory / name}: missing" for name in expected if name not in present]
    problems += [f"{directory / name}: no such topic in the registry" for name in present if name not in expected]
    for name, text in expected.items():
        if name in present and present[name] != text:
            problems.append(f"{directory / name}: differs from the models\n{_diff(present[name], text, name)}")
    return problems


def _present(directory: Path) -> dict[str, str]:
    if not directory.is_dir():
        return {}
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.glob(f"*{SUFFIX}"))}


def _diff(committed: str, generated: str, name: str, limit: int = 40) -> str:
    lines = list(
        difflib.unified_diff(
            committed.splitlines(), generated.splitlines(), f"committed/{name}", f"generated/{name}", lineterm=""
        )
    )
    more = f"\n... ({len(lines) - limit} more diff lines)" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streams.schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed schemas differ from the models")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="schema folder (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.check:
        return _check(args.dir)
    paths = write(args.dir)
    print(f"wrote {len(paths)} schemas to {args.dir}")
    return 0


def _check(directory: Path) -> int:
    problems = drift(directory)
    if not problems:
        print(f"{len(ALL_TOPICS)} schemas in {directory} match the models")
        return 0
    print(f"JSON schemas are out of date with the event models ({len(problems)} files):", file=sys.stderr)
    for problem in problems:
        print(f"- {problem}", file=sys.stderr)
    print(f"Run `{REGENERATE}` and commit the schemas/ folder with the model change.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
