"""The committed schemas are exactly the generator's output, and each is a valid draft 2020-12 schema."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_schemas", REPO / "scripts" / "gen_schemas.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
GENERATED: dict[str, str] = gen.generate()
NAMES = sorted(GENERATED)


def _walk(node: Any) -> Any:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def test_every_documented_output_is_generated() -> None:
    expected = {
        "chat_request",
        "chat_response",
        "chat_chunk",
        "error",
        "models",
        "messages_request",
        "messages_response",
        "messages_count_tokens_request",
        "responses_request",
        "responses_response",
        "count_tokens_request",
        "count_tokens_response",
        "compress_request",
        "compress_response",
    }
    assert {name.removesuffix(".schema.json") for name in NAMES} == expected


@pytest.mark.parametrize("name", NAMES)
def test_committed_schema_equals_generated(name: str) -> None:
    assert (SCHEMAS / name).read_text(encoding="utf-8") == GENERATED[name], "run `make schemas`"


FORMATS = gen.format_schemas()


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_committed_format_schema_equals_generated(name: str) -> None:
    assert (SCHEMAS / name).read_text(encoding="utf-8") == FORMATS[name], "run `make schemas`"
    Draft202012Validator.check_schema(json.loads(FORMATS[name]))


def test_no_drift_across_all_outputs() -> None:
    assert gen.drift(gen.all_files()) == []


def test_no_drift_and_no_stale_files() -> None:
    assert gen.drift(gen.all_files()) == []


def test_check_mode_reports_drift_without_writing(tmp_path: Path) -> None:
    for name, text in GENERATED.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "chat_request.schema.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "models.schema.json").unlink()
    (tmp_path / "old.schema.json").write_text("{}\n", encoding="utf-8")
    problems = gen.drift(GENERATED, tmp_path)
    assert [p.split(":")[0] for p in problems] == [
        "chat_request.schema.json",
        "models.schema.json",
        "old.schema.json",
    ]
    assert (tmp_path / "chat_request.schema.json").read_text() == "{}\n"
    assert gen.main(["--check"]) == 0


def test_output_is_byte_stable() -> None:
    assert gen.generate() == GENERATED
    for text in GENERATED.values():
        assert text.endswith("}\n") and text == gen.render(json.loads(text))


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = json.loads(GENERATED[name])
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://mockgw.dev/schemas/{name}"


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_open_self_contained_and_minimal(name: str) -> None:
    schema = json.loads(GENERATED[name])
    defs = schema.get("$defs", {})
    refs = set()
    for node in _walk(schema):
        if isinstance(node, dict):
            assert node.get("additionalProperties") is not False
            if "$ref" in node:
                assert node["$ref"].startswith("#/$defs/")
                refs.add(node["$ref"].removeprefix("#/$defs/"))
    assert refs == set(defs), "every ref resolves and every def is used"
    assert str(REPO) not in GENERATED[name] and "components/schemas" not in GENERATED[name]


def test_openapi_keywords_are_gone() -> None:
    for name in NAMES:
        for node in _walk(json.loads(GENERATED[name])):
            if isinstance(node, dict) and "properties" not in node:
                assert not {"nullable", "example", "discriminator"} & set(node)


@pytest.mark.parametrize(
    ("openapi", "expected"),
    [
        ({"type": "string", "nullable": True}, {"type": ["string", "null"]}),
        (
            {"type": "string", "enum": ["a"], "nullable": True},
            {"type": ["string", "null"], "enum": ["a", None]},
        ),
        (
            {"$ref": "#/components/schemas/X", "nullable": True},
            {"anyOf": [{"$ref": "#/$defs/X"}, {"type": "null"}]},
        ),
        ({"type": "integer", "example": 3}, {"type": "integer", "examples": [3]}),
        ({"type": "object", "discriminator": {"propertyName": "type"}, "x-internal": 1}, {"type": "object"}),
        ({"properties": {"example": {"type": "string"}}}, {"properties": {"example": {"type": "string"}}}),
        ({"items": {"$ref": "#/components/schemas/Tool"}}, {"items": {"$ref": "#/$defs/Tool"}}),
    ],
)
def test_convert(openapi: dict[str, Any], expected: dict[str, Any]) -> None:
    assert gen.convert(openapi) == expected


def test_overlay_rules_cite_a_reason_and_apply() -> None:
    names = {output.name for output in gen.OUTPUTS}
    for rule in gen.OVERLAY:
        assert len(rule.why) > 20
        assert rule.outputs is None or set(rule.outputs) <= names
    chat = json.loads(GENERATED["chat_request.schema.json"])
    assert chat["properties"]["max_completion_tokens"] == {
        "description": chat["properties"]["max_completion_tokens"]["description"],
        "minimum": 1,
        "type": "integer",
    }
    assert chat["$defs"]["CompressionModel"].get("enum") is None
    count = json.loads(GENERATED["messages_count_tokens_request.schema.json"])
    assert "max_tokens" not in count["required"]
    assert "max_tokens" in json.loads(GENERATED["messages_request.schema.json"])["required"]


def test_vendored_openapi_is_inside_the_repo() -> None:
    assert gen.OPENAPI_FILE == SCHEMAS / "openapi" / "edgee-openapi-2026-08-17.json"
    spec = gen.load_openapi()
    assert spec["openapi"].startswith("3.0")
