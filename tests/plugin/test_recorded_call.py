"""RecordedCall: what a test reads of a journal entry, whatever the wire format of the request."""

from __future__ import annotations

from typing import Any

import pytest

from mockgw.handle import RecordedCall


def call(body: Any, **fields: Any) -> RecordedCall:
    data = {"path": "/v1/chat/completions", "method": "POST", "status": 200, "model": None, "fixture": None}
    return RecordedCall.from_json({**data, "body": body, **fields})


@pytest.mark.parametrize(
    ("body", "last_user_message"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "hi"),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]},
            "ab",
        ),
        ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "r"}]}, "q"),
        ({"messages": [{"role": "system", "content": "s"}]}, None),
        ({"input": "a bare string input"}, "a bare string input"),
        ({"input": [{"role": "user", "content": [{"type": "input_text", "text": "x"}]}]}, "x"),
        ("not json", None),
        (None, None),
    ],
)
def test_last_user_message(body: Any, last_user_message: str | None) -> None:
    assert call(body).last_user_message == last_user_message


@pytest.mark.parametrize(
    ("body", "tools"),
    [
        ({"tools": [{"type": "function", "function": {"name": "get_weather"}}]}, ("get_weather",)),
        ({"tools": [{"name": "anthropic_style", "input_schema": {}}]}, ("anthropic_style",)),
        ({"tools": "nonsense"}, ()),
        ({}, ()),
    ],
)
def test_tools(body: Any, tools: tuple[str, ...]) -> None:
    assert call(body).tools == tools


@pytest.mark.parametrize(
    ("fields", "unmatched", "refused"),
    [
        ({"fixture": "hi"}, False, False),
        ({}, True, False),
        ({"status": 404, "response": {"error": {"code": "no_matching_fixture"}}}, True, False),
        ({"status": 400, "response": {"error": {"code": "invalid_request"}}}, False, True),
        ({"status": 400, "fixture": "scripted-400"}, False, False),
        ({"status": 401, "response": {"error": {"code": "unauthorized"}}}, False, False),
    ],
)
def test_unmatched_and_refused(fields: dict[str, Any], unmatched: bool, refused: bool) -> None:
    recorded = call({"model": "openai/gpt-4o", "messages": []}, **fields)
    assert (recorded.unmatched, recorded.refused) == (unmatched, refused)


def test_describe_names_the_request_and_what_answered() -> None:
    recorded = call(
        {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x" * 80}]},
        model="openai/gpt-4o",
        status=404,
        response={"error": {"code": "no_matching_fixture", "message": "..."}},
    )
    assert recorded.describe() == (
        f"POST /v1/chat/completions model='openai/gpt-4o' last user message='{'x' * 60}...' -> 404 "
        "error=no_matching_fixture"
    )
