"""Properties of the generator: arguments for random tool schemas validate; same seed same answer, new seed new one."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema.validators import Draft202012Validator

from mockgw.answers import generate, patterns
from mockgw.core.conversation import Conversation, Message, Tool, ToolChoice
from mockgw.core.errors import FixtureError
from mockgw.fixtures.load import parse_fixture

NAMES = st.sampled_from(["city", "unit", "count", "when", "tags", "id", "note", "price", "kind", "items"])
SIMPLE_PATTERNS = ["^[a-z]{3,8}$", r"^\d{3}-\d{4}$", "^[A-Z][a-z]+$", "^(foo|bar)_[0-9]+$", r"^\w+@\w+\.com$", "ab+c"]
FORMATS = ["date", "date-time", "email", "uuid", "uri", "ipv4", "hostname", "time"]
SCALARS = st.one_of(st.integers(-50, 50), st.text("abcxyz", min_size=1, max_size=5), st.booleans(), st.none())


@st.composite
def strings(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["plain", "length", "pattern", "format"]))
    if kind == "length":
        low = draw(st.integers(0, 20))
        return {"type": "string", "minLength": low, "maxLength": low + draw(st.integers(0, 30))}
    if kind == "pattern":
        return {"type": "string", "pattern": draw(st.sampled_from(SIMPLE_PATTERNS))}
    if kind == "format":
        return {"type": "string", "format": draw(st.sampled_from(FORMATS))}
    return {"type": "string"}


@st.composite
def integers(draw: st.DrawFn) -> dict[str, Any]:
    step = draw(st.sampled_from([None, 1, 2, 3, 5, 7, 10]))
    low = draw(st.integers(-1000, 1000))
    high = low + draw(st.integers((step or 1) * 2, 2000))
    schema: dict[str, Any] = {"type": "integer"}
    if draw(st.booleans()):
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
    if draw(st.booleans()):
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = high
    if step:
        schema["multipleOf"] = step
    return schema


@st.composite
def numbers(draw: st.DrawFn) -> dict[str, Any]:
    step = draw(st.sampled_from([None, 0.5, 0.25, 0.1, 0.01, 2.5]))
    low = draw(st.floats(-1000, 1000, allow_nan=False)) if draw(st.booleans()) else None
    schema: dict[str, Any] = {"type": "number"}
    if low is not None:
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = (
            low + (step or 1) * 4 + draw(st.floats(0, 500))
        )
    if step:
        schema["multipleOf"] = step
    return schema


def leaves() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        strings(),
        integers(),
        numbers(),
        st.just({"type": "boolean"}),
        st.just({"type": "null"}),
        st.lists(SCALARS, min_size=1, max_size=5, unique_by=json.dumps).map(lambda values: {"enum": values}),
        SCALARS.map(lambda value: {"const": value}),
    )


def nullable() -> st.SearchStrategy[dict[str, Any]]:
    """A typed scalar schema whose type list also allows null."""
    typed = st.one_of(strings(), integers(), numbers(), st.just({"type": "boolean"}))
    return typed.map(lambda s: {**s, "type": [s["type"], "null"]})


def objects(child: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        properties = draw(st.dictionaries(NAMES, child, max_size=4))
        required = [name for name in properties if draw(st.booleans())]
        schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
        if draw(st.booleans()):
            schema["additionalProperties"] = False
        return schema

    return build()


def arrays(child: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        low = draw(st.integers(0, 3))
        schema: dict[str, Any] = {"type": "array", "items": draw(child), "minItems": low}
        if draw(st.booleans()):
            schema["maxItems"] = low + draw(st.integers(0, 3))
        return schema

    return build()


# oneOf branches of distinct JSON types never overlap, so exactly one matches whatever the branch makes
DISJOINT = {
    "string": strings(),
    "boolean": st.just({"type": "boolean"}),
    "null": st.just({"type": "null"}),
    "integer": integers(),
}


@st.composite
def one_ofs(draw: st.DrawFn) -> dict[str, Any]:
    kinds = draw(st.lists(st.sampled_from(sorted(DISJOINT)), min_size=2, max_size=4, unique=True))
    return {"oneOf": [draw(DISJOINT[kind]) for kind in kinds]}


def schemas() -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        leaves(),
        lambda child: st.one_of(
            objects(child),
            arrays(child),
            nullable(),
            st.lists(child, min_size=1, max_size=3).map(lambda branches: {"anyOf": branches}),
            one_ofs(),
        ),
        max_leaves=12,
    )


SCHEMAS = schemas()


@st.composite
def tool_parameters(draw: st.DrawFn) -> dict[str, Any]:
    """An object schema, sometimes with `$defs` its properties refer to."""
    definitions = draw(st.dictionaries(st.sampled_from(["Place", "Money", "Span"]), SCHEMAS, max_size=2))
    refs = st.sampled_from([{"$ref": f"#/$defs/{name}"} for name in definitions]) if definitions else SCHEMAS
    properties = draw(st.dictionaries(NAMES, st.one_of(SCHEMAS, refs), min_size=1, max_size=5))
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if draw(st.booleans())],
        "additionalProperties": draw(st.booleans()),
    }
    if definitions:
        schema["$defs"] = definitions
    return schema


def _valid(schema: dict[str, Any], value: Any) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(value)]


@given(tool_parameters(), st.integers(0, 2**32))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_tool_arguments_validate_against_the_tool_schema(schema: dict[str, Any], seed: int) -> None:
    Draft202012Validator.check_schema(schema)
    made = generate.arguments_for(schema, random.Random(seed))
    assert isinstance(made.value, dict)
    assert _valid(schema, made.value) == [], (schema, made.value)
    assert made.warnings == ()
    assert json.loads(json.dumps(made.value)) == made.value  # plain JSON, nothing Python-only


@given(SCHEMAS, st.integers(0, 2**32))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_structured_values_validate_and_repeat_for_the_same_seed(schema: dict[str, Any], seed: int) -> None:
    made = generate.satisfying(schema, random.Random(seed))
    assert _valid(schema, made.value) == [], (schema, made.value)
    assert generate.satisfying(schema, random.Random(seed)) == made


WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "unit": {"enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "when": {"type": "string", "format": "date"},
        "id": {"type": "string", "format": "uuid"},
    },
    "required": ["city", "unit", "days", "when", "id"],
    "additionalProperties": False,
}


def _conversation(text: str, **changes: Any) -> Conversation:
    fields: dict[str, Any] = {
        "endpoint": "chat",
        "model": "openai/gpt-4o",
        "messages": (Message("user", text),),
        "tools": (Tool("get_weather", "", WEATHER), Tool("other", "", {"type": "object"})),
        "tool_choice": ToolChoice("function", "get_weather"),
    }
    fields.update(changes)
    return Conversation(**fields)


@given(st.text(min_size=1, max_size=40), st.integers(0, 2**32))
@settings(max_examples=50, deadline=None)
def test_same_seed_and_request_same_answer_other_seed_other_answer(text: str, seed: int) -> None:
    conv = _conversation(text)
    first = generate.answer(conv, seed, 24)
    assert generate.answer(conv, seed, 24) == first
    assert generate.answer(conv, seed + 1, 24) != first
    (name, arguments), *_ = first.tool_calls
    assert name == "get_weather" and _valid(WEATHER, json.loads(arguments)) == []
    plain = _conversation(text, tools=(), tool_choice=None)
    assert generate.answer(plain, seed, 24) == generate.answer(plain, seed, 24)
    assert generate.answer(plain, seed, 24) != generate.answer(plain, seed + 1, 24)


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({}, "tool_call"),
        ({"tool_choice": ToolChoice("required")}, "tool_call"),
        ({"tool_choice": ToolChoice("auto")}, "text"),
        ({"tool_choice": ToolChoice("none")}, "text"),
        ({"tool_choice": None, "response_format": {"type": "json_object"}}, "json"),
        ({"tool_choice": None, "response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}, "json"),
        ({"tool_choice": None, "response_format": {"type": "text"}}, "text"),
        ({"tool_choice": ToolChoice("required"), "tools": ()}, "text"),
    ],
)
def test_the_request_implies_the_kind_of_answer(changes: dict[str, Any], kind: str) -> None:
    assert generate.implied_kind(_conversation("hi", **changes)) == kind


def test_required_picks_the_first_tool_offered() -> None:
    made = generate.answer(_conversation("hi", tool_choice=ToolChoice("required")), 7, 24)
    assert [name for name, _ in made.tool_calls] == ["get_weather"]


@pytest.mark.parametrize(
    ("schema", "warning"),
    [
        ({"type": "object", "properties": {"a": {"type": "string", "pattern": r"(a)\1"}}, "required": ["a"]}, "$.a"),
        (
            {"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}, "required": ["a"]},
            "only local references",
        ),
        ({"type": "object", "properties": {"a": {"type": "nonsense"}}}, "invalid schema"),
        ({"type": "object", "properties": {"a": False}, "required": ["a"]}, "`false`"),
        (
            {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer", "minimum": 5, "maximum": 1}}},
            "$.a",
        ),
    ],
    ids=["backreference", "remote-ref", "bad-type", "false-schema", "empty-range"],
)
def test_unsatisfiable_schemas_give_an_object_and_a_warning(schema: dict[str, Any], warning: str) -> None:
    made = generate.arguments_for(schema, random.Random(1))
    assert isinstance(made.value, dict)
    assert made.warnings and warning in made.warnings[0]


@pytest.mark.parametrize(
    "pattern",
    [
        "^[a-z]{3,8}$",
        r"^\d{3}-\d{4}$",
        "^(foo|bar)_[0-9]+$",
        r"^[^\s@]+@[^\s@]+\.[a-z]{2,}$",
        "x+?y*z",
        "^a.c$",
        "[A-F0-9]{8}",
    ],
)
def test_pattern_samples_match(pattern: str) -> None:
    for seed in range(20):
        assert patterns.matches(pattern, patterns.sample(pattern, random.Random(seed)))


def test_fixture_json_schema_must_be_valid() -> None:
    with pytest.raises(FixtureError, match=r"reply\.generate\.json_schema"):
        parse_fixture({"name": "x", "reply": {"generate": {"json_schema": {"type": 5}}}})
    with pytest.raises(FixtureError, match="cannot be combined with content"):
        parse_fixture({"name": "x", "reply": {"generate": "text", "content": "hi"}})


@pytest.mark.parametrize("minimum", [512.28125, 0.3, 1000000.37, -77.7])
def test_a_decimal_step_gives_a_multiple_validators_accept(minimum: float) -> None:
    """0.01 steps: most k * 0.01 do not divide back to a whole number in floating point (found by Hypothesis)."""
    schema = {"type": "number", "multipleOf": 0.01, "minimum": minimum}
    for seed in range(50):
        made = generate.satisfying(schema, random.Random(seed))
        assert not made.warnings and not list(Draft202012Validator(schema).iter_errors(made.value)), made
