"""The contract against its own rules, its JSON Schemas and docs/events.md."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from streams import deadletter, schemas
from streams.base import Event, Record
from streams.codec import DecodeError, decode
from streams.topics import ALL_TOPICS, BY_NAME, INGEST_TOPICS, TopicSpec, dead_letter_topics

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENTS_DOC = REPO_ROOT / "docs" / "events.md"
MAX_BYTES = 262_144
PRODUCER_CLASS = "org.apache.kafka.tools.ConsoleProducer"
TOPIC_NAME = re.compile(r"^[a-z]+\.([a-z]+-)*[a-z]+s$")  # <context>.<plural-noun>

def event_type(model: type[Event]) -> str:
    return str(model.model_fields["type"].default)


def sections(text: str, marker: str) -> dict[str, str]:
    """Heading name to body, for headings written as `<marker> `name``."""
    parts = re.split(rf"^{marker} `([^`]+)`[ \t]*$", text, flags=re.MULTILINE)
    return {name: body.split("\n## ")[0] for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def topic_sections() -> dict[str, str]:
    return sections(EVENTS_DOC.read_text(encoding="utf-8"), "##")


def event_sections(topic: str) -> dict[str, str]:
    return sections(topic_sections()[topic], "###")


def fenced(body: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", body, flags=re.MULTILINE | re.DOTALL)


def example(topic: str, kind: str) -> dict[str, Any]:
    """The one JSON example under an event type's heading."""
    blocks = fenced(event_sections(topic)[kind], "json")
    assert len(blocks) == 1, f"{topic} / {kind}: expected one ```json example, found {len(blocks)}"
    return json.loads(blocks[0])


def published_lines(topic: str, kind: str) -> list[tuple[str, str, str]]:
    """(command, key, value) of every `echo 'key|value' | ...` in an event type's shell block."""
    found = []
    for block in fenced(event_sections(topic)[kind], "sh"):
        for command in block.replace("\\\n", " ").splitlines():
            match = re.match(r"echo '([^'|]*)\|([^']*)'\s*\|(.*)$", command)
            if match:
                found.append((match.group(3).strip(), match.group(1), match.group(2)))
    return found


TOPIC_EVENTS = [(spec, model) for spec in ALL_TOPICS for model in spec.events]
TOPIC_EVENT_IDS = [f"{spec.name}:{event_type(model)}" for spec, model in TOPIC_EVENTS]


def all_records(root: type[BaseModel] = Record) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for sub in root.__subclasses__():
        found += [sub, *all_records(sub)]
    return found


# --- the registry ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [pytest.param(spec, id=spec.name) for spec in ALL_TOPICS],
)
def test_topic_names_are_a_lowercase_context_a_dot_and_a_plural_noun(spec: TopicSpec) -> None:
    assert TOPIC_NAME.match(spec.name), spec.name


def test_topic_names_are_unique_in_the_registry() -> None:
    assert len(BY_NAME) == len(ALL_TOPICS)


def test_dead_letter_topics_are_named_after_their_topic_with_a_dlq_suffix() -> None:
    assert all(spec.dlq_name == f"{spec.name}.dlq" for spec in ALL_TOPICS)
    assert {name for name, _, _ in dead_letter_topics()} == {f"{spec.name}.dlq" for spec in ALL_TOPICS}


@pytest.mark.parametrize("spec", ALL_TOPICS, ids=lambda spec: spec.name)
def test_the_events_of_a_topic_have_distinct_type_literals(spec: TopicSpec) -> None:
    types = [event_type(model) for model in spec.events]
    assert len(types) == len(set(types)), types


def test_type_literals_name_one_model_each_across_the_registry() -> None:
    models = dict.fromkeys(model for _, model in TOPIC_EVENTS)  # a hold command travels on two topics
    types = [event_type(model) for model in models]
    assert len(types) == len(set(types)), types


@pytest.mark.parametrize("model", all_records(), ids=lambda model: model.__name__)
def test_every_event_and_record_model_is_frozen_and_forbids_extra_fields(model: type[BaseModel]) -> None:
    assert model.model_config.get("frozen") is True
    assert model.model_config.get("extra") == "forbid"


@pytest.mark.parametrize(("spec", "model"), TOPIC_EVENTS, ids=TOPIC_EVENT_IDS)
def test_a_decoded_event_cannot_be_changed(spec: TopicSpec, model: type[Event]) -> None:
    event = decode(spec, json.dumps(example(spec.name, event_type(model))).encode(), MAX_BYTES)
    with pytest.raises(ValidationError):
        event.event_id = "changed"


@pytest.mark.parametrize(("spec", "model"), TOPIC_EVENTS, ids=TOPIC_EVENT_IDS)
def test_an_unknown_field_is_rejected_and_named(spec: TopicSpec, model: type[Event]) -> None:
    payload = {**example(spec.name, event_type(model)), "coupon_code": "SPRING"}
    with pytest.raises(DecodeError, match="coupon_code"):
        decode(spec, json.dumps(payload).encode(), MAX_BYTES)


@pytest.mark.parametrize(("spec", "model"), TOPIC_EVENTS, ids=TOPIC_EVENT_IDS)
def test_every_timestamp_without_a_timezone_is_rejected(spec: TopicSpec, model: type[Event]) -> None:
    payload = example(spec.name, event_type(model))
    stamps = [name for name, value in payload.items() if _is_aware_timestamp(value)]
    assert "occurred_at" in stamps
    for name in stamps:
        naive = {**payload, name: datetime.fromisoformat(payload[name]).replace(tzinfo=None).isoformat()}
        with pytest.raises(DecodeError, match=f"{name}: Input should have timezone info"):
            decode(spec, json.dumps(naive).encode(), MAX_BYTES)


def _is_aware_timestamp(value: object) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


# --- the JSON Schemas ------------------------------------------------------------------------


def test_committed_json_schemas_match_the_event_models() -> None:
    problems = schemas.drift()
    assert not problems, "\n".join(problems) + f"\nrun `{schemas.REGENERATE}`"


def test_schema_check_fails_on_a_changed_missing_or_stale_file(tmp_path: Path) -> None:
    schemas.write(tmp_path)
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 0
    changed = tmp_path / schemas.file_name(ALL_TOPICS[0])
    changed.write_text(changed.read_text().replace('"maxItems": 500', '"maxItems": 501'))
    (tmp_path / schemas.file_name(ALL_TOPICS[1])).unlink()
    (tmp_path / "retired.topics.schema.json").write_text("{}")
    found = {tuple(Path(p.splitlines()[0]).name.split(": ")) for p in schemas.drift(tmp_path)}
    assert found == {
        (changed.name, "differs from the models"),
        (schemas.file_name(ALL_TOPICS[1]), "missing"),
        ("retired.topics.schema.json", "no such topic in the registry"),
    }
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 1


@pytest.mark.parametrize("spec", ALL_TOPICS, ids=lambda spec: spec.name)
def test_each_schema_names_its_topic_and_offers_exactly_its_event_types(spec: TopicSpec) -> None:
    schema = schemas.topic_schema(spec)
    assert (schema["$id"], schema["title"], schema["description"]) == (
        schemas.schema_id(spec),
        spec.name,
        spec.description,
    )
    refs = [option["$ref"].split("/")[-1] for option in schema["oneOf"]]
    assert refs == [model.__name__ for model in spec.events]
    consts = [schema["$defs"][name]["properties"]["type"]["const"] for name in refs]
    assert consts == [event_type(model) for model in spec.events]


@pytest.mark.parametrize("spec", [s for s in ALL_TOPICS if len(s.events) > 1], ids=lambda spec: spec.name)
def test_the_schema_requires_type_where_the_codec_needs_it_to_pick_the_event(spec: TopicSpec) -> None:
    schema = schemas.topic_schema(spec)
    assert all("type" in schema["$defs"][model.__name__]["required"] for model in spec.events)


# --- docs/events.md --------------------------------------------------------------------------


def test_every_registry_topic_has_a_section_in_the_events_doc() -> None:
    missing = [spec.name for spec in ALL_TOPICS if spec.name not in topic_sections()]
    assert not missing, f"docs/events.md has no `## `<topic>`` section for {missing}"


def test_the_events_doc_describes_no_topic_outside_the_registry() -> None:
    assert set(topic_sections()) <= set(BY_NAME)


@pytest.mark.parametrize("spec", ALL_TOPICS, ids=lambda spec: spec.name)
def test_each_topic_section_states_the_registry_facts(spec: TopicSpec) -> None:
    body = topic_sections()[spec.name]
    assert f"| key | {spec.key} |" in body
    assert f"| partitions | {spec.partitions} |" in body
    assert f"| writer | {spec.writer} |" in body
    assert f"| dead letters | `{spec.dlq_name}` |" in body
    for name, value in spec.config().items():
        assert f"{name}={value}" in body


@pytest.mark.parametrize("spec", ALL_TOPICS, ids=lambda spec: spec.name)
def test_each_topic_section_has_one_heading_per_event_type(spec: TopicSpec) -> None:
    assert list(event_sections(spec.name)) == [event_type(model) for model in spec.events]


@pytest.mark.parametrize(("spec", "model"), TOPIC_EVENTS, ids=TOPIC_EVENT_IDS)
def test_every_example_in_the_events_doc_decodes_to_its_event_type(spec: TopicSpec, model: type[Event]) -> None:
    raw = json.dumps(example(spec.name, event_type(model))).encode()
    event = decode(spec, raw, MAX_BYTES)
    assert type(event) is model


@pytest.mark.parametrize(("spec", "model"), TOPIC_EVENTS, ids=TOPIC_EVENT_IDS)
def test_every_field_of_an_event_is_named_in_its_doc_section(spec: TopicSpec, model: type[Event]) -> None:
    body = event_sections(spec.name)[event_type(model)].split("```")[0]
    own = [name for name in model.model_fields if name not in Event.model_fields and name != "type"]
    assert [name for name in own if f"`{name}`" not in body] == []


@pytest.mark.parametrize(("spec", "model"), TOPIC_EVENTS, ids=TOPIC_EVENT_IDS)
def test_publish_lines_send_the_example_to_its_topic_under_its_key(spec: TopicSpec, model: type[Event]) -> None:
    kind = event_type(model)
    lines = published_lines(spec.name, kind)
    commands = sorted(command.split()[0] for command, _, _ in lines)
    assert commands == ["java", "kcat"], f"{spec.name} / {kind}: one ConsoleProducer and one kcat line"
    expected_key = spec.key_of(decode(spec, json.dumps(example(spec.name, kind)).encode(), MAX_BYTES))
    for command, key, value in lines:
        assert json.loads(value) == example(spec.name, kind)
        assert "\n" not in value
        assert key == expected_key
        if command.startswith("java"):
            assert f"{PRODUCER_CLASS} " in command
            assert f"--topic {spec.name} " in command
            assert "--property parse.key=true --property key.separator='|'" in command
        else:
            assert command.split() == ["kcat", "-P", "-b", "127.0.0.1:9092", "-t", spec.name, "-K'|'"]


def test_the_dead_letter_section_names_every_header_and_the_dlq_suffix() -> None:
    text = EVENTS_DOC.read_text(encoding="utf-8")
    body = text.split("## Dead-letter topics", 1)[1]
    headers = [value for name, value in vars(deadletter).items() if name.startswith("HEADER_")]
    assert len(headers) == 6
    assert [header for header in headers if f"`{header}`" not in body] == []
    assert "`<topic>.dlq`" in body


def test_the_events_doc_covers_every_ingest_topic_before_the_internal_ones() -> None:
    order = list(topic_sections())
    assert order[: len(INGEST_TOPICS)] == [spec.name for spec in INGEST_TOPICS]
