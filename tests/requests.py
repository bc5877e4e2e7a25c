"""Shared example request bodies, as data, for the unit tests and the socket-level tests.

Each table row is `(id, body, status, code, param)`: the body to POST to `/v1/chat/completions`
(already decoded JSON), and the status, error `code` and error `param` the gateway must answer with
(`None` for a success).
`MESSAGE_FRAGMENTS` maps some ids to a fragment the error message must contain.
"""

from __future__ import annotations

import copy
import json
from typing import Any

Row = tuple[str, Any, int, str | None, str | None]

MODEL = "openai/gpt-4o"
USER = {"role": "user", "content": "What is the weather in Paris?"}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TOOL_CALL = {
    "id": "call_abc123",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
}

# `--data` of the curl example on the chat completions reference page, verbatim (placeholders included).
REFERENCE_BODY_TEXT = """
{
"model": "openai/gpt-4o",
"messages": [
{
"role": "system",
"content": "<string>",
"name": "<string>",
"tool_call_id": "<string>",
"refusal": "<string>",
"tool_calls": [
{
"id": "<string>",
"type": "function",
"function": {
"name": "<string>",
"arguments": "<string>"
}
}
]
}
],
"max_tokens": 2,
"stream": false,
"stream_options": {
"include_usage": true
},
"tools": [
{
"type": "function",
"function": {
"name": "<string>",
"description": "<string>",
"parameters": {}
}
}
],
"tool_choice": "none",
"tags": [
"<string>"
]
}
"""
REFERENCE_BODY_VERBATIM: dict[str, Any] = json.loads(REFERENCE_BODY_TEXT)

# The same body with the placeholders filled in realistically.
REFERENCE_BODY_FILLED: dict[str, Any] = {
    "model": "openai/gpt-4o",
    "messages": [
        {
            "role": "system",
            "content": "You are a concise weather assistant.",
            "name": "weather_bot",
            "tool_call_id": "call_abc123",
            "refusal": "I cannot help with that.",
            "tool_calls": [copy.deepcopy(TOOL_CALL)],
        }
    ],
    "max_tokens": 2,
    "stream": False,
    "stream_options": {"include_usage": True},
    "tools": [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "Get the current weather.", "parameters": {}},
        }
    ],
    "tool_choice": "none",
    "tags": ["production", "chatbot"],
}


def chat(**fields: Any) -> dict[str, Any]:
    """A minimal valid chat body (`model` + one user message) with `fields` set or replaced."""
    body: dict[str, Any] = {"model": MODEL, "messages": [dict(USER)]}
    body.update(copy.deepcopy(fields))
    return body


def without(key: str, **fields: Any) -> dict[str, Any]:
    """`chat(**fields)` with `key` removed."""
    body = chat(**fields)
    del body[key]
    return body


def msg(**fields: Any) -> dict[str, Any]:
    """A chat body whose only message is `fields`."""
    return chat(messages=[fields])


def tool(**function: Any) -> dict[str, Any]:
    """A chat body declaring one function tool with the given `function` object."""
    return chat(tools=[{"type": "function", "function": function}])


def call(**function: Any) -> dict[str, Any]:
    """A chat body whose assistant message carries one tool call with the given `function` object."""
    return msg(
        role="assistant",
        content=None,
        tool_calls=[{"id": "call_1", "type": "function", "function": function}],
    )


def _bad(id: str, body: Any, param: str | None) -> Row:
    return (id, body, 400, "invalid_request", param)


INVALID_CHAT_REQUESTS: list[Row] = [
    # The body itself and the two required fields.
    _bad("body-array", [], None),
    _bad("body-string", "hello", None),
    _bad("body-null", None, None),
    _bad("empty-object", {}, "model"),
    _bad("missing-model", without("model"), "model"),
    _bad("missing-messages", without("messages"), "messages"),
    _bad("model-integer", chat(model=4), "model"),
    _bad("model-null", chat(model=None), "model"),
    _bad("messages-empty", chat(messages=[]), "messages"),
    _bad("messages-string", chat(messages="hi"), "messages"),
    _bad("messages-object", chat(messages=USER), "messages"),
    _bad("messages-null", chat(messages=None), "messages"),
    _bad("message-not-object", chat(messages=[5]), "messages[0]"),
    # Roles and the per-role required fields.
    _bad("role-missing", msg(content="hi"), "messages[0].role"),
    _bad("role-robot", msg(role="robot", content="hi"), "messages[0].role"),
    _bad("role-capitalised", msg(role="User", content="hi"), "messages[0].role"),
    _bad("role-integer", msg(role=1, content="hi"), "messages[0].role"),
    _bad("user-without-content", msg(role="user"), "messages[0].content"),
    _bad("system-without-content", msg(role="system"), "messages[0].content"),
    _bad("developer-without-content", msg(role="developer"), "messages[0].content"),
    _bad("tool-without-tool-call-id", msg(role="tool", content="18°C"), "messages[0].tool_call_id"),
    _bad("tool-without-content", msg(role="tool", tool_call_id="call_1"), "messages[0].content"),
    _bad(
        "third-message-tool-without-id",
        chat(
            messages=[
                USER,
                {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
                {"role": "tool", "content": "18°C"},
            ]
        ),
        "messages[2].tool_call_id",
    ),
    # Content.
    _bad("content-integer", msg(role="user", content=42), "messages[0].content"),
    _bad("content-object", msg(role="user", content={"type": "text", "text": "hi"}), "messages[0].content"),
    _bad("content-boolean", msg(role="user", content=True), "messages[0].content"),
    _bad("content-part-string", msg(role="user", content=["hi"]), "messages[0].content[0]"),
    _bad("content-part-without-type", msg(role="user", content=[{"text": "hi"}]), "messages[0].content[0].type"),
    _bad("content-part-type-integer", msg(role="user", content=[{"type": 1}]), "messages[0].content[0].type"),
    _bad("text-part-without-text", msg(role="user", content=[{"type": "text"}]), "messages[0].content[0].text"),
    _bad(
        "text-part-text-integer",
        msg(role="user", content=[{"type": "text", "text": 3}]),
        "messages[0].content[0].text",
    ),
    # Other message fields.
    _bad("name-integer", msg(role="user", content="hi", name=7), "messages[0].name"),
    _bad("tool-call-id-integer", msg(role="tool", content="ok", tool_call_id=7), "messages[0].tool_call_id"),
    _bad("refusal-integer", msg(role="assistant", content="", refusal=0), "messages[0].refusal"),
    _bad(
        "tool-calls-object",
        msg(role="assistant", content=None, tool_calls=TOOL_CALL),
        "messages[0].tool_calls",
    ),
    _bad(
        "tool-call-without-id",
        msg(
            role="assistant",
            content=None,
            tool_calls=[{"type": "function", "function": TOOL_CALL["function"]}],
        ),
        "messages[0].tool_calls[0].id",
    ),
    _bad(
        "tool-call-type-bad",
        msg(role="assistant", content=None, tool_calls=[{**TOOL_CALL, "type": "fn"}]),
        "messages[0].tool_calls[0].type",
    ),
    _bad(
        "tool-call-without-arguments",
        call(name="get_weather"),
        "messages[0].tool_calls[0].function.arguments",
    ),
    _bad(
        "tool-call-arguments-object",
        call(name="get_weather", arguments={}),
        "messages[0].tool_calls[0].function.arguments",
    ),
    _bad(
        "tool-call-name-with-space",
        call(name="get weather", arguments="{}"),
        "messages[0].tool_calls[0].function.name",
    ),
    # Tools.
    _bad("tools-object", chat(tools=WEATHER_TOOL), "tools"),
    _bad("tool-not-object", chat(tools=["get_weather"]), "tools[0]"),
    _bad("tool-without-function", chat(tools=[{"type": "function"}]), "tools[0].function"),
    _bad("tool-without-type", chat(tools=[{"function": {"name": "get_weather"}}]), "tools[0].type"),
    _bad("tool-type-retrieval", chat(tools=[{"type": "retrieval", "function": {"name": "f"}}]), "tools[0].type"),
    _bad("tool-function-without-name", tool(description="no name"), "tools[0].function.name"),
    _bad("tool-function-name-integer", tool(name=5), "tools[0].function.name"),
    _bad("tool-function-name-space", tool(name="get weather"), "tools[0].function.name"),
    _bad("tool-function-name-dot", tool(name="weather.get"), "tools[0].function.name"),
    _bad("tool-function-name-empty", tool(name=""), "tools[0].function.name"),
    _bad("tool-function-name-65-chars", tool(name="a" * 65), "tools[0].function.name"),
    _bad("tool-function-name-trailing-newline", tool(name="get_weather\n"), "tools[0].function.name"),
    _bad("tool-function-parameters-string", tool(name="f", parameters="{}"), "tools[0].function.parameters"),
    _bad("tool-function-description-integer", tool(name="f", description=1), "tools[0].function.description"),
    _bad(
        "second-tool-bad-name",
        chat(tools=[WEATHER_TOOL, {"type": "function", "function": {"name": "x y"}}]),
        "tools[1].function.name",
    ),
    # tool_choice.
    _bad("tool-choice-any", chat(tools=[WEATHER_TOOL], tool_choice="any"), "tool_choice"),
    _bad("tool-choice-integer", chat(tool_choice=1), "tool_choice"),
    _bad("tool-choice-null", chat(tool_choice=None), "tool_choice"),
    _bad("tool-choice-list", chat(tool_choice=["auto"]), "tool_choice"),
    _bad("tool-choice-type-bogus", chat(tool_choice={"type": "bogus"}), "tool_choice.type"),
    _bad("tool-choice-type-required", chat(tool_choice={"type": "required"}), "tool_choice.type"),
    _bad(
        "tool-choice-function-without-function",
        chat(tool_choice={"type": "function"}),
        "tool_choice.function",
    ),
    _bad(
        "tool-choice-function-without-name",
        chat(tool_choice={"type": "function", "function": {}}),
        "tool_choice.function.name",
    ),
    _bad(
        "tool-choice-function-bad-name",
        chat(tool_choice={"type": "function", "function": {"name": "get weather"}}),
        "tool_choice.function.name",
    ),
    # Scalars.
    _bad("max-tokens-zero", chat(max_tokens=0), "max_tokens"),
    _bad("max-tokens-negative", chat(max_tokens=-5), "max_tokens"),
    _bad("max-tokens-string", chat(max_tokens="100"), "max_tokens"),
    _bad("max-tokens-fraction", chat(max_tokens=1.5), "max_tokens"),
    _bad("max-completion-tokens-zero", chat(max_completion_tokens=0), "max_completion_tokens"),
    _bad("max-completion-tokens-string", chat(max_completion_tokens="8"), "max_completion_tokens"),
    _bad("stream-string", chat(stream="true"), "stream"),
    _bad("stream-integer", chat(stream=1), "stream"),
    _bad("stream-options-boolean", chat(stream=True, stream_options=True), "stream_options"),
    _bad(
        "include-usage-string",
        chat(stream=True, stream_options={"include_usage": "yes"}),
        "stream_options.include_usage",
    ),
    _bad("tags-string", chat(tags="production"), "tags"),
    _bad("tags-item-integer", chat(tags=["production", 2]), "tags[1]"),
    _bad("edgee-tool-ids-string", chat(edgee_tool_ids="edgee_current_time"), "edgee_tool_ids"),
    _bad("edgee-pending-id-integer", chat(edgee_pending_id=1), "edgee_pending_id"),
    _bad("enable-debug-string", chat(enable_debug="true"), "enable_debug"),
    _bad("compression-model-integer", chat(compression_model=1), "compression_model"),
    # Several problems: the shallowest, then the first in the body, is reported.
    _bad("two-problems-first-in-body-wins", chat(messages=[], max_tokens=0), "messages"),
    _bad("reference-body-verbatim", copy.deepcopy(REFERENCE_BODY_VERBATIM), "tools[0].function.name"),
]

MESSAGE_FRAGMENTS: dict[str, str] = {
    "body-array": "Invalid type for the request body: expected an object, got an array",
    "empty-object": "Missing required parameter: 'model'.",
    "missing-messages": "Missing required parameter: 'messages'.",
    "messages-empty": "'messages' must contain at least 1 item.",
    "messages-string": "Invalid type for 'messages': expected an array, got a string ('hi').",
    "role-robot": "Invalid value for 'messages[0].role': 'robot' is not one of 'system', 'user', "
    "'assistant', 'tool', 'developer'.",
    "user-without-content": "Missing required parameter: 'messages[0].content' when 'role' is 'user'.",
    "tool-without-tool-call-id": "Missing required parameter: 'messages[0].tool_call_id' when 'role' is 'tool'.",
    "content-integer": "Invalid type for 'messages[0].content': expected a string, an array or null, got an "
    "integer (42).",
    "text-part-without-text": "when 'type' is 'text'",
    "tool-call-name-with-space": "'get weather' does not match ^[a-zA-Z0-9_-]{1,64}$",
    "tool-type-retrieval": "'retrieval' is not 'function'.",
    "tool-function-name-space": "Invalid 'tools[0].function.name': 'get weather' does not match "
    "^[a-zA-Z0-9_-]{1,64}$ (letters, digits, underscores and dashes, at most 64 characters).",
    "tool-function-name-65-chars": "(letters, digits, underscores and dashes, at most 64 characters)",
    "tool-choice-any": "'any' is not one of 'none', 'auto', 'required'.",
    "tool-choice-integer": "expected a string or an object, got an integer (1).",
    "tool-choice-type-bogus": "'bogus' is not one of 'auto', 'none', 'function'.",
    "tool-choice-function-without-function": "Missing required parameter: 'tool_choice.function'.",
    "max-tokens-zero": "Invalid value for 'max_tokens': 0 is less than the minimum of 1.",
    "max-tokens-string": "Invalid type for 'max_tokens': expected an integer, got a string ('100').",
    "reference-body-verbatim": "Invalid 'tools[0].function.name': '<string>' does not match "
    "^[a-zA-Z0-9_-]{1,64}$ (letters, digits, underscores and dashes, at most 64 characters).",
}


def _ok(id: str, body: Any) -> Row:
    return (id, body, 200, None, None)


VALID_CHAT_REQUESTS: list[Row] = [
    _ok("minimal", chat()),
    _ok("content-empty-string", msg(role="user", content="")),
    _ok("content-null", msg(role="user", content=None)),
    _ok(
        "content-parts",
        msg(
            role="user",
            content=[
                {"type": "text", "text": "What is in this image?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            ],
        ),
    ),
    _ok("content-part-unknown-type", msg(role="user", content=[{"type": "input_audio", "input_audio": {}}])),
    _ok("content-parts-empty", msg(role="user", content=[])),
    _ok(
        "all-roles",
        chat(
            messages=[
                {"role": "system", "content": "Be brief.", "name": "policy"},
                {"role": "developer", "content": "Answer in French."},
                USER,
                {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
                {"role": "tool", "content": "18°C and sunny", "tool_call_id": "call_abc123"},
                {"role": "assistant", "content": "Il fait 18°C."},
            ],
            tools=[WEATHER_TOOL],
        ),
    ),
    _ok("assistant-without-content", chat(messages=[USER, {"role": "assistant", "tool_calls": [TOOL_CALL]}])),
    _ok("assistant-refusal", chat(messages=[USER, {"role": "assistant", "content": "", "refusal": "No."}])),
    _ok("cache-control", msg(role="system", content="Long prompt", cache_control={"type": "ephemeral"})),
    _ok("unknown-message-field", msg(role="user", content="hi", audio=None, x_custom={"a": 1})),
    _ok(
        "unknown-top-level-fields",
        chat(
            temperature=0.2,
            top_p=1,
            n=1,
            stop=["\n"],
            user="u-1",
            seed=7,
            response_format={"type": "text"},
            parallel_tool_calls=False,
            compression_configuration={"rate": 0.5},
            enable_compression=True,
            foo="bar",
        ),
    ),
    _ok("tool-choice-none", chat(tools=[WEATHER_TOOL], tool_choice="none")),
    _ok("tool-choice-auto", chat(tools=[WEATHER_TOOL], tool_choice="auto")),
    _ok("tool-choice-required", chat(tools=[WEATHER_TOOL], tool_choice="required")),
    _ok("tool-choice-typed-auto", chat(tools=[WEATHER_TOOL], tool_choice={"type": "auto"})),
    _ok("tool-choice-typed-none", chat(tools=[WEATHER_TOOL], tool_choice={"type": "none"})),
    _ok(
        "tool-choice-function",
        chat(tools=[WEATHER_TOOL], tool_choice={"type": "function", "function": {"name": "get_weather"}}),
    ),
    _ok("tool-minimal-function", tool(name="lookup")),
    _ok("tool-name-64-chars", tool(name="a" * 64)),
    _ok("tool-name-dashes-underscores-digits", tool(name="get-weather_v2")),
    _ok("tools-empty", chat(tools=[])),
    _ok("max-tokens-one", chat(max_tokens=1)),
    _ok("max-completion-tokens", chat(max_completion_tokens=256)),
    _ok("stream-with-usage", chat(stream=True, stream_options={"include_usage": True})),
    _ok("stream-options-empty", chat(stream=False, stream_options={})),
    _ok("tags", chat(tags=["production", "chatbot"])),
    _ok(
        "edgee-fields",
        chat(edgee_tool_ids=["edgee_current_time"], enable_debug=True),
    ),
    _ok("compression-model-documented", chat(compression_model="claude")),
    _ok("compression-model-undocumented", chat(compression_model="customer")),
    _ok("model-bare-id", chat(model="gpt-5.2")),
    _ok("model-provider-pin", chat(model="anthropic/claude-sonnet-4-6:anthropic")),
    _ok("reference-body-filled", copy.deepcopy(REFERENCE_BODY_FILLED)),
]
