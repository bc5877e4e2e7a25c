"""Request validation: one actionable 400 per invalid body, and the response schemas."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mockgw.core.errors import ApiError, invalid_request
from mockgw.gateway.validation import (
    REQUEST_KINDS,
    SCHEMA_NAMES,
    Validators,
    check_response,
    format_path,
    load_schema,
    short_repr,
)
from tests.requests import (
    INVALID_CHAT_REQUESTS,
    MESSAGE_FRAGMENTS,
    REFERENCE_BODY_FILLED,
    REFERENCE_BODY_VERBATIM,
    VALID_CHAT_REQUESTS,
)

VALIDATORS = Validators.load()


def _ids(rows: list[Any]) -> list[str]:
    return [row[0] for row in rows]


def test_tables_are_large_and_ids_unique() -> None:
    assert len(INVALID_CHAT_REQUESTS) >= 40
    ids = _ids(INVALID_CHAT_REQUESTS) + _ids(VALID_CHAT_REQUESTS)
    assert len(ids) == len(set(ids))
    assert set(MESSAGE_FRAGMENTS) <= set(_ids(INVALID_CHAT_REQUESTS))


@pytest.mark.parametrize(
    ("id", "body", "status", "code", "param"), INVALID_CHAT_REQUESTS, ids=_ids(INVALID_CHAT_REQUESTS)
)
def test_invalid_chat_request(id: str, body: Any, status: int, code: str, param: str | None) -> None:
    error = VALIDATORS.check("chat_request", body)
    assert isinstance(error, ApiError)
    assert (error.status, error.code, error.type, error.param) == (
        status,
        code,
        "invalid_request_error",
        param,
    )
    assert error.message.endswith(".")
    if param is not None:
        assert f"'{param}'" in error.message
    if id in MESSAGE_FRAGMENTS:
        assert MESSAGE_FRAGMENTS[id] in error.message


@pytest.mark.parametrize(("id", "body", "status", "code", "param"), VALID_CHAT_REQUESTS, ids=_ids(VALID_CHAT_REQUESTS))
def test_valid_chat_request(id: str, body: Any, status: int, code: str | None, param: str | None) -> None:
    assert (status, code, param) == (200, None, None)
    assert VALIDATORS.check("chat_request", body) is None


def test_reference_body_verbatim_fails_on_the_tool_name_and_filled_passes() -> None:
    error = VALIDATORS.check("chat_request", copy.deepcopy(REFERENCE_BODY_VERBATIM))
    assert error is not None and error.param == "tools[0].function.name"
    assert VALIDATORS.check("chat_request", copy.deepcopy(REFERENCE_BODY_FILLED)) is None


def test_error_is_the_documented_envelope() -> None:
    error = VALIDATORS.check("chat_request", {"model": "openai/gpt-4o"})
    assert error == invalid_request("Missing required parameter: 'messages'.", "messages")
    assert check_response("error", error.envelope()) == []


def test_choice_is_deterministic_and_does_not_touch_the_body() -> None:
    body = copy.deepcopy(REFERENCE_BODY_VERBATIM)
    first = VALIDATORS.check("chat_request", body)
    assert body == REFERENCE_BODY_VERBATIM
    assert all(VALIDATORS.check("chat_request", copy.deepcopy(body)) == first for _ in range(3))
    assert Validators.load().check("chat_request", body) == first


def test_load_compiles_every_request_kind() -> None:
    assert VALIDATORS.kinds == REQUEST_KINDS
    with pytest.raises(KeyError):
        VALIDATORS.check("nope", {})


OTHER_REQUESTS: list[tuple[str, str, Any, str | None]] = [
    (
        "messages_request",
        "ok",
        {"model": "claude-sonnet-4.5", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]},
        None,
    ),
    (
        "messages_request",
        "blocks-open",
        {
            "model": "m",
            "max_tokens": 8,
            "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image", "source": {}},
                        {
                            "type": "tool_result",
                            "tool_use_id": "t",
                            "content": [{"type": "text", "text": "r"}],
                        },
                    ],
                }
            ],
            "tool_choice": {"type": "none"},
            "thinking": {"type": "enabled"},
        },
        None,
    ),
    (
        "messages_request",
        "no-max-tokens",
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        "max_tokens",
    ),
    (
        "messages_request",
        "role-system",
        {"model": "m", "max_tokens": 8, "messages": [{"role": "system", "content": "hi"}]},
        "messages[0].role",
    ),
    (
        "messages_request",
        "text-block-without-text",
        {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
        "messages[0].content[0].text",
    ),
    (
        "messages_request",
        "tool-choice-tool-without-name",
        {
            "model": "m",
            "max_tokens": 8,
            "messages": [{"role": "user", "content": "x"}],
            "tool_choice": {"type": "tool"},
        },
        "tool_choice.name",
    ),
    (
        "messages_count_tokens_request",
        "no-max-tokens-ok",
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        None,
    ),
    ("messages_count_tokens_request", "messages-empty", {"model": "m", "messages": []}, "messages"),
    (
        "messages_count_tokens_request",
        "tool-choice-unknown-type",
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": {"type": "AAA", "name": ""}},
        "tool_choice.type",
    ),
    (
        "messages_request",
        "tool-use-name-not-string",
        {
            "model": "m",
            "max_tokens": 8,
            "messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": 1, "input": {}}]}],
        },
        "messages[0].content[0].name",
    ),
    (
        "messages_request",
        "tool-result-id-not-string",
        {
            "model": "m",
            "max_tokens": 8,
            "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": None}]}],
        },
        "messages[0].content[0].tool_use_id",
    ),
    (
        "messages_request",
        "tool-result-is-error-not-boolean",
        {
            "model": "m",
            "max_tokens": 8,
            "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "is_error": 0}]}],
        },
        "messages[0].content[0].is_error",
    ),
    (
        "messages_count_tokens_request",
        "tool-result-content-items-not-blocks",
        {
            "model": "m",
            "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [None]}]}],
        },
        "messages[0].content[0].content[0]",
    ),
    (
        "responses_request",
        "function-call-output-items-not-parts",
        {"model": "m", "input": [{"type": "function_call_output", "call_id": "c", "output": [None, None]}]},
        "input[0].output[0]",
    ),
    (
        "responses_request",
        "function-call-arguments-object",
        {"model": "m", "input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": {}}]},
        "input[0].arguments",
    ),
    (
        "responses_request",
        "function-call-output-null",
        {"model": "m", "input": [{"type": "function_call_output", "call_id": "c", "output": None}]},
        "input[0].output",
    ),
    (
        "responses_request",
        "function-call-output-parts-ok",
        {
            "model": "m",
            "input": [
                {"type": "function_call_output", "call_id": "c", "output": [{"type": "input_text", "text": "ok"}]}
            ],
        },
        None,
    ),
    (
        "responses_request",
        "string-input",
        {"model": "openai/gpt-5.2", "input": "hi", "tool_choice": "required"},
        None,
    ),
    (
        "responses_request",
        "items-open",
        {
            "model": "m",
            "input": [
                {
                    "type": "message",
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "hi"},
                        {"type": "input_image", "image_url": "x"},
                    ],
                },
                {"type": "reasoning", "summary": []},
                {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c", "output": "ok"},
            ],
            "tools": [{"type": "web_search"}, {"type": "function", "name": "f"}],
        },
        None,
    ),
    ("responses_request", "missing-input", {"model": "m"}, "input"),
    ("responses_request", "input-integer", {"model": "m", "input": 5}, "input"),
    (
        "responses_request",
        "function-call-without-call-id",
        {"model": "m", "input": [{"type": "function_call", "name": "f", "arguments": "{}"}]},
        "input[0].call_id",
    ),
    (
        "responses_request",
        "message-without-content",
        {"model": "m", "input": [{"role": "user"}]},
        "input[0].content",
    ),
    (
        "responses_request",
        "temperature-too-high",
        {"model": "m", "input": "x", "temperature": 3},
        "temperature",
    ),
    (
        "responses_request",
        "function-tool-without-name",
        {"model": "m", "input": "x", "tools": [{"type": "function"}]},
        "tools[0].name",
    ),
    (
        "count_tokens_request",
        "ok",
        {
            "model": "openai/gpt-5.2",
            "messages": [{"role": "user", "content": "hi"}],
            "tokenizer": "o200k_base",
        },
        None,
    ),
    ("count_tokens_request", "bad-tokenizer", {"model": "m", "tokenizer": "gpt2"}, "tokenizer"),
    ("count_tokens_request", "missing-model", {"messages": []}, "model"),
    ("compress_request", "chat-shape", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}, None),
    ("compress_request", "responses-shape", {"model": "m", "input": "hi"}, None),
    ("compress_request", "no-shape", {"model": "m"}, "messages"),
]


@pytest.mark.parametrize(
    ("kind", "id", "body", "param"), OTHER_REQUESTS, ids=[f"{r[0]}-{r[1]}" for r in OTHER_REQUESTS]
)
def test_other_request_kinds(kind: str, id: str, body: Any, param: str | None) -> None:
    error = VALIDATORS.check(kind, body)
    if param is None:
        assert error is None
    else:
        assert error is not None and error.param == param and error.status == 400


USAGE = {
    "prompt_tokens": 10,
    "completion_tokens": 3,
    "total_tokens": 13,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens_details": {"reasoning_tokens": 0},
}
HEAD = {"id": "chatcmpl-1", "created": 1677652288, "model": "openai/gpt-4o"}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}


def _response(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return {**HEAD, "object": "chat.completion", "choices": [choice], "usage": USAGE, **extra}


def _chunk(*choices: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**HEAD, "object": "chat.completion.chunk", "choices": list(choices), **extra}


RESPONSES: list[tuple[str, str, Any, bool]] = [
    ("chat_response", "text", _response({"role": "assistant", "content": "Hello!"}), True),
    (
        "chat_response",
        "tool-calls-null-content",
        _response({"role": "assistant", "content": None, "tool_calls": [CALL]}),
        True,
    ),
    (
        "chat_response",
        "compression",
        _response(
            {"role": "assistant", "content": "x"},
            compression={"saved_tokens": 1, "cost_savings": 2, "reduction": 48.9, "time_ms": 3},
        ),
        True,
    ),
    ("chat_response", "usage-null", _response({"role": "assistant", "content": "x"}, usage=None), False),
    (
        "chat_response",
        "usage-partial",
        _response({"role": "assistant", "content": "x"}, usage={"prompt_tokens": 1}),
        False,
    ),
    ("chat_response", "role-user", _response({"role": "user", "content": "x"}), False),
    ("chat_response", "content-missing", _response({"role": "assistant"}), False),
    ("chat_chunk", "role", _chunk({"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}), True),
    ("chat_chunk", "content", _chunk({"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}), True),
    (
        "chat_chunk",
        "tool-call-first",
        _chunk(
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        }
                    ]
                },
                "finish_reason": None,
            }
        ),
        True,
    ),
    (
        "chat_chunk",
        "tool-call-fragment",
        _chunk(
            {
                "index": 0,
                "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]},
                "finish_reason": None,
            }
        ),
        True,
    ),
    (
        "chat_chunk",
        "finish-with-usage",
        _chunk({"index": 0, "delta": {}, "finish_reason": "stop"}, usage=USAGE),
        True,
    ),
    ("chat_chunk", "usage-only", _chunk(usage=USAGE), True),
    ("chat_chunk", "usage-null", _chunk(usage=None), False),
    ("chat_chunk", "delta-null", _chunk({"index": 0, "delta": None, "finish_reason": None}), False),
    (
        "chat_chunk",
        "tool-call-without-index",
        _chunk({"index": 0, "delta": {"tool_calls": [{"id": "c"}]}}),
        False,
    ),
    (
        "models",
        "list",
        {
            "object": "list",
            "data": [{"id": "openai/gpt-5.2", "object": "model", "created": 1, "owned_by": "openai"}],
        },
        True,
    ),
    (
        "error",
        "null-param",
        {
            "error": {
                "code": "bad_model_id",
                "message": "Invalid model ID: 'x'",
                "type": "invalid_request_error",
                "param": None,
            }
        },
        True,
    ),
    ("count_tokens_response", "ok", {"input_tokens": 42}, True),
    ("count_tokens_response", "negative", {"input_tokens": -1}, False),
]


@pytest.mark.parametrize(("kind", "id", "body", "valid"), RESPONSES, ids=[f"{r[0]}-{r[1]}" for r in RESPONSES])
def test_check_response(kind: str, id: str, body: Any, valid: bool) -> None:
    problems = check_response(kind, body)
    assert (problems == []) is valid, problems


def test_load_schema_names_and_ids() -> None:
    for name in SCHEMA_NAMES:
        schema = load_schema(name)
        assert schema["$id"] == f"https://mockgw.dev/schemas/{name}.schema.json"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("messages",), "messages"),
        (("messages", 2, "role"), "messages[2].role"),
        (("tools", 0, "function", "name"), "tools[0].function.name"),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("robot", "'robot'"),
        (5, "5"),
        (None, "null"),
        (True, "true"),
        ({"a": 1}, '{"a":1}'),
        ("x" * 50, "'" + "x" * 39 + "…'"),
    ],
)
def test_short_repr(value: Any, text: str) -> None:
    assert short_repr(value) == text
