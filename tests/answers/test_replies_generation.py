"""replies.build with generated answers: which kind, finish reasons, usage, warnings (table-driven)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from mockgw.answers import build as replies
from mockgw.core import tokens
from mockgw.core.conversation import Conversation, Message, Tool, ToolChoice
from mockgw.core.errors import FixtureError
from mockgw.fixtures.load import GenerateSpec, ReplySpec, UsageSpec, parse_fixture

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _conv(**changes: Any) -> Conversation:
    fields: dict[str, Any] = {
        "endpoint": "chat",
        "model": "openai/gpt-4o",
        "messages": (Message("user", "What is the weather in Paris?"),),
        "tools": (Tool("weather", "", CITY),),
    }
    fields.update(changes)
    return Conversation(**fields)


def _build(spec: ReplySpec | None, conv: Conversation, words: int = 24) -> Any:
    return replies.build(spec, conv, random.Random(0), 42, words)


@pytest.mark.parametrize(
    ("spec", "changes", "finish", "has_text", "calls"),
    [
        (None, {}, "stop", True, []),
        (None, {"tool_choice": ToolChoice("function", "weather")}, "tool_calls", False, ["weather"]),
        (None, {"tool_choice": ToolChoice("required")}, "tool_calls", False, ["weather"]),
        (ReplySpec(generate=GenerateSpec("tool_call")), {}, "tool_calls", False, ["weather"]),
        (ReplySpec(generate=GenerateSpec("text")), {"tool_choice": ToolChoice("required")}, "stop", True, []),
        (ReplySpec(generate=GenerateSpec("json")), {}, "stop", True, []),
        (ReplySpec(generate=GenerateSpec("tool_call")), {"tools": ()}, "stop", True, []),
        (ReplySpec(content="scripted", has_content=True), {"tool_choice": ToolChoice("required")}, "stop", True, []),
        (ReplySpec(delay_ms=5), {"tool_choice": ToolChoice("required")}, "tool_calls", False, ["weather"]),
    ],
    ids=[
        "nothing",
        "named-tool",
        "required",
        "fixture-tool-call",
        "fixture-text-beats-required",
        "fixture-json",
        "tool-call-without-tools",
        "scripted-content-wins",
        "fixture-without-content",
    ],
)
def test_kind_of_generated_answer(
    spec: ReplySpec | None, changes: dict[str, Any], finish: str, has_text: bool, calls: list[str]
) -> None:
    reply = _build(spec, _conv(**changes))
    assert reply.finish_reason == finish
    assert bool(reply.content) == has_text
    assert [c.name for c in reply.tool_calls] == calls
    for call in reply.tool_calls:
        assert isinstance(json.loads(call.arguments)["city"], str) and call.id.startswith("call_")


def test_usage_is_the_one_tokenizer_unless_the_fixture_says() -> None:
    conv = _conv()
    reply = _build(None, conv)
    assert reply.usage.prompt_tokens == tokens.count_conversation(conv) == replies.prompt_tokens(conv)
    assert reply.usage.completion_tokens == tokens.count(reply.content or "")
    fixed = _build(ReplySpec(usage=UsageSpec(prompt_tokens=7, completion_tokens=9)), conv)
    assert (fixed.usage.prompt_tokens, fixed.usage.completion_tokens) == (7, 9)


@pytest.mark.parametrize("limit", [1, 5, 12])
def test_max_tokens_cuts_generated_text(limit: int) -> None:
    reply = _build(None, _conv(max_tokens=limit))
    assert (reply.finish_reason, reply.usage.completion_tokens) == ("length", limit)
    assert tokens.count(reply.content or "") == limit


def test_words_from_fixture_and_warnings_for_missing_tools() -> None:
    assert len((_build(ReplySpec(generate=GenerateSpec("text", words=9)), _conv()).content or "").split()) == 9
    missing = _build(ReplySpec(generate=GenerateSpec("tool_call", tool="nope")), _conv())
    assert [(c.name, c.arguments) for c in missing.tool_calls] == [("nope", "{}")]
    assert "not among the tools offered" in missing.warnings[0]
    assert "offers no tools" in _build(ReplySpec(generate=GenerateSpec("tool_call")), _conv(tools=())).warnings[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("text", GenerateSpec("text")),
        ("tool_call", GenerateSpec("tool_call")),
        ("json", GenerateSpec("json")),
        ({"words": 3}, GenerateSpec("text", words=3)),
        ({"tool_call": "weather"}, GenerateSpec("tool_call", tool="weather")),
        ({"json_schema": {"type": "object"}}, GenerateSpec("json", schema={"type": "object"})),
    ],
)
def test_fixture_generate_forms(raw: Any, expected: GenerateSpec) -> None:
    assert parse_fixture({"name": "g", "reply": {"generate": raw}}).replies[0].generate == expected


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"generate": "poem"}, "generate"),
        ({"generate": {"words": 0}}, "generate"),
        ({"generate": {"words": 2, "tool_call": "x"}}, "generate"),
        ({"generate": {"tool_call": "has space"}}, "generate"),
        ({"generate": "text", "tool_calls": [{"name": "x"}]}, "generate"),
    ],
)
def test_fixture_generate_mistakes_are_refused_with_the_field(raw: Any, field: str) -> None:
    with pytest.raises(FixtureError) as caught:
        parse_fixture({"name": "g", "reply": raw})
    assert field in str(caught.value)
