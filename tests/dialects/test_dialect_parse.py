"""Anthropic and Responses bodies normalise to the same Conversation a chat body gives."""

from __future__ import annotations

from typing import Any

import pytest

from mockgw.answers import build as replies
from mockgw.core.conversation import Message, ToolCall, ToolChoice
from mockgw.dialects.chat import CHAT
from mockgw.dialects.messages import MESSAGES, arguments_object
from mockgw.dialects.responses import RESPONSES
from mockgw.gateway.endpoints import compress, count_tokens, detect_format

# One tool conversation in the three formats.
CHAT_BODY = {
    "model": "openai/gpt-4o",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "22 C"},
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d", "parameters": {}}}],
    "tool_choice": "required",
}
MESSAGES_BODY = {
    "model": "openai/gpt-4o",
    "max_tokens": 100,
    "system": [{"type": "text", "text": "Be brief."}],
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "22 C"}]},
    ],
    "tools": [{"name": "get_weather", "description": "d", "input_schema": {}}],
    "tool_choice": {"type": "any"},
}
RESPONSES_BODY = {
    "model": "openai/gpt-4o",
    "instructions": "Be brief.",
    "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]},
        {"role": "assistant", "content": [{"type": "output_text", "text": "Let me look."}]},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "22 C"},
    ],
    "tools": [{"type": "function", "name": "get_weather", "description": "d", "parameters": {}}],
    "tool_choice": "required",
}
EXPECTED = (
    Message("system", "Be brief."),
    Message("user", "Weather in Paris?"),
    Message("assistant", "Let me look.", (ToolCall("call_1", "get_weather", '{"city":"Paris"}'),)),
    Message("tool", "22 C", tool_call_id="call_1"),
)


@pytest.mark.parametrize(
    ("dialect", "body", "endpoint"),
    [(CHAT, CHAT_BODY, "chat"), (MESSAGES, MESSAGES_BODY, "messages"), (RESPONSES, RESPONSES_BODY, "responses")],
)
def test_every_format_normalises_alike(dialect: Any, body: dict[str, Any], endpoint: str) -> None:
    conv = dialect.parse(body, {})
    assert conv.endpoint == endpoint
    assert conv.messages == EXPECTED
    assert [t.name for t in conv.tools] == ["get_weather"]
    assert conv.tool_choice == ToolChoice("required")
    assert conv.last_tool_result == EXPECTED[-1] and conv.turn == 1
    # the same conversation costs the same prompt tokens whatever its format
    assert replies.prompt_tokens(conv) == replies.prompt_tokens(CHAT.parse(CHAT_BODY, {}))


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, ToolChoice("auto")),
        ({"type": "any"}, ToolChoice("required")),
        ({"type": "none"}, ToolChoice("none")),
        ({"type": "tool", "name": "f"}, ToolChoice("function", "f")),
        ("auto", None),
    ],
)
def test_anthropic_tool_choice(choice: Any, expected: ToolChoice | None) -> None:
    assert MESSAGES.parse({"tool_choice": choice}, {}).tool_choice == expected


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", ToolChoice("auto")),
        ("required", ToolChoice("required")),
        ({"type": "function", "name": "f"}, ToolChoice("function", "f")),
    ],
)
def test_responses_tool_choice(choice: Any, expected: ToolChoice) -> None:
    assert RESPONSES.parse({"tool_choice": choice}, {}).tool_choice == expected


@pytest.mark.parametrize(
    ("body", "stream", "max_tokens", "tags"),
    [
        ({"input": "hi", "stream": True, "max_output_tokens": 5, "tags": ["a"]}, True, 5, ("a", "h")),
        ({"input": "hi", "stream": "yes", "max_output_tokens": True}, False, None, ("h",)),
    ],
)
def test_responses_options(body: dict[str, Any], stream: bool, max_tokens: int | None, tags: tuple[str, ...]) -> None:
    conv = RESPONSES.parse(body, {"x-edgee-tags": "h"})
    assert (conv.stream, conv.max_tokens, conv.tags) == (stream, max_tokens, tags)
    assert conv.last_user_message == "hi"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [('{"a": 1}', {"a": 1}), ("", {}), ("not json", {}), ("[1, 2]", {})],
)
def test_arguments_object(arguments: str, expected: dict[str, Any]) -> None:
    assert arguments_object(arguments) == expected


@pytest.mark.parametrize(
    ("body", "fmt"),
    [({"system": "s", "messages": []}, "messages"), ({"input": "x"}, "responses"), ({"messages": []}, "chat")],
)
def test_compress_format_detection(body: dict[str, Any], fmt: str) -> None:
    assert detect_format(body) == fmt


def test_count_tokens_matches_each_format() -> None:
    chat_count = count_tokens({"model": "m", "messages": CHAT_BODY["messages"]}, {})
    anthropic_count = count_tokens({"model": "m", "system": "Be brief.", "messages": MESSAGES_BODY["messages"]}, {})
    without_tools = CHAT.parse({**CHAT_BODY, "tools": []}, {})
    assert chat_count == anthropic_count == {"input_tokens": replies.prompt_tokens(without_tools)}


def test_compress_is_deterministic_and_keeps_other_fields() -> None:
    body = {
        "model": "m",
        "temperature": 0.5,
        "input": [{"type": "function_call_output", "call_id": "c", "output": "x"}],
    }
    first = compress(body, {})
    assert first == compress(body, {})
    assert first["temperature"] == 0.5 and first["input"] == body["input"]
