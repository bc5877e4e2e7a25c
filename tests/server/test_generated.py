"""Generated answers over a socket with the openai SDK: tool calls, JSON content, max_tokens, usage."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

import openai
import pytest
from jsonschema.validators import Draft202012Validator
from pydantic import BaseModel

from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY, handle_on

BOOKING: dict[str, Any] = {
    "type": "object",
    "properties": {
        "guest": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 2, "maxLength": 40},
                "email": {"type": "string", "format": "email"},
                "phone": {"type": "string", "pattern": r"^\+\d{2} \d{3} \d{4}$"},
            },
            "required": ["name", "email", "phone"],
            "additionalProperties": False,
        },
        "nights": {"type": "integer", "minimum": 1, "maximum": 30},
        "arrival": {"type": "string", "format": "date"},
        "room": {"$ref": "#/$defs/room"},
        "extras": {"type": "array", "items": {"enum": ["breakfast", "parking", "spa"]}, "minItems": 1, "maxItems": 3},
        "budget": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 5000, "multipleOf": 0.5},
        "reference": {"type": "string", "format": "uuid"},
    },
    "required": ["guest", "nights", "arrival", "room", "extras", "budget", "reference"],
    "additionalProperties": False,
    "$defs": {
        "room": {"oneOf": [{"type": "string", "enum": ["single", "double"]}, {"type": "integer", "minimum": 100}]}
    },
}
TOOLS: list[Any] = [
    {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}},
    {"type": "function", "function": {"name": "book_room", "description": "Book a room", "parameters": BOOKING}},
]
MESSAGES: list[Any] = [{"role": "user", "content": "Book me a room in Lisbon for three nights"}]
NAMED: Any = {"type": "function", "function": {"name": "book_room"}}


def _problems(schema: dict[str, Any], value: Any) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(value)]


def _client(gateway: MockGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)


@pytest.fixture
def gateway(gateway_factory: Callable[..., MockGateway]) -> MockGateway:
    """No fixtures: every answer is generated."""
    return gateway_factory(seed=42)


def test_named_tool_choice_gets_arguments_valid_against_the_tool_schema(gateway: MockGateway) -> None:
    completion = _client(gateway).chat.completions.create(
        model="openai/gpt-4o", messages=MESSAGES, tools=TOOLS, tool_choice=NAMED
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert call.type == "function" and call.function.name == "book_room" and call.id.startswith("call_")
    assert _problems(BOOKING, json.loads(call.function.arguments)) == []


def test_required_tool_choice_calls_the_first_tool(gateway: MockGateway) -> None:
    completion = _client(gateway).chat.completions.create(
        model="openai/gpt-4o", messages=MESSAGES, tools=TOOLS, tool_choice="required"
    )
    (call,) = completion.choices[0].message.tool_calls or []
    assert (call.function.name, json.loads(call.function.arguments)) == ("lookup", {})  # type: ignore[union-attr]


def test_streamed_and_plain_tool_calls_carry_the_same_arguments(gateway: MockGateway) -> None:
    client = _client(gateway)
    plain = client.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES, tools=TOOLS, tool_choice=NAMED)
    with client.chat.completions.stream(
        model="openai/gpt-4o", messages=MESSAGES, tools=TOOLS, tool_choice=NAMED
    ) as stream:
        streamed = stream.get_final_completion()
    (plain_call,) = plain.choices[0].message.tool_calls or []
    (streamed_call,) = streamed.choices[0].message.tool_calls or []
    assert streamed.choices[0].finish_reason == "tool_calls"
    assert streamed_call.function.name == plain_call.function.name  # type: ignore[union-attr]
    assert streamed_call.function.arguments == plain_call.function.arguments  # type: ignore[union-attr]


def test_json_schema_response_format_gets_content_valid_against_the_schema(gateway: MockGateway) -> None:
    completion = _client(gateway).chat.completions.create(
        model="openai/gpt-4o",
        messages=MESSAGES,
        response_format={"type": "json_schema", "json_schema": {"name": "booking", "schema": BOOKING}},
    )
    assert completion.choices[0].finish_reason == "stop"
    assert _problems(BOOKING, json.loads(completion.choices[0].message.content or "")) == []


class Weather(BaseModel):
    city: str
    unit: Literal["celsius", "fahrenheit"]
    temperatures: list[float]
    windy: bool | None


def test_responses_text_format_json_schema_gets_output_valid_against_the_schema(gateway: MockGateway) -> None:
    """Responses puts the schema at `text.format.schema`, without chat's `json_schema` level."""
    response = _client(gateway).responses.create(
        model="openai/gpt-4o",
        input="Book me a room.",
        text={"format": {"type": "json_schema", "name": "booking", "schema": BOOKING}},
    )
    assert _problems(BOOKING, json.loads(response.output_text)) == []


def test_responses_parse_with_a_pydantic_model(gateway: MockGateway) -> None:
    response = _client(gateway).responses.parse(model="openai/gpt-4o", input="Weather?", text_format=Weather)
    parsed = response.output_parsed
    assert isinstance(parsed, Weather) and parsed.unit in ("celsius", "fahrenheit")


def test_sdk_parse_with_a_pydantic_model(gateway: MockGateway) -> None:
    completion = _client(gateway).chat.completions.parse(
        model="openai/gpt-4o", messages=MESSAGES, response_format=Weather
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Weather) and parsed.unit in ("celsius", "fahrenheit")


def test_json_object_response_format_gets_a_json_object(gateway: MockGateway) -> None:
    completion = _client(gateway).chat.completions.create(
        model="openai/gpt-4o", messages=MESSAGES, response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(completion.choices[0].message.content or ""), dict)


@pytest.mark.parametrize("limit_name", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_cuts_the_text_with_finish_reason_length(gateway: MockGateway, limit_name: str) -> None:
    client = _client(gateway)
    limit: Any = {limit_name: 5}
    completion = client.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES, **limit)
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 5
    stream = client.chat.completions.create(
        model="openai/gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}, **limit
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == completion.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["length"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5


@pytest.mark.parametrize(
    "request_extra",
    [{}, {"tools": TOOLS, "tool_choice": NAMED}, {"response_format": {"type": "json_object"}}],
    ids=["text", "tool_call", "json"],
)
def test_streamed_usage_equals_plain_usage(gateway: MockGateway, request_extra: dict[str, Any]) -> None:
    client = _client(gateway)
    plain = client.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES, **request_extra)
    chunks = list(
        client.chat.completions.create(
            model="openai/gpt-4o",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
            **request_extra,
        )
    )
    assert plain.usage is not None and chunks[-1].usage is not None
    assert chunks[-1].usage.model_dump() == plain.usage.model_dump()
    assert plain.usage.prompt_tokens > 0 and plain.usage.completion_tokens > 0


def test_same_seed_same_answer_other_seed_other_answer(gateway_factory: Callable[..., MockGateway]) -> None:
    def ask(gateway: MockGateway) -> tuple[str | None, str]:
        client = _client(gateway)
        text = client.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES).choices[0].message.content
        tool = client.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES, tools=TOOLS, tool_choice=NAMED)
        return text, (tool.choices[0].message.tool_calls or [])[0].function.arguments  # type: ignore[union-attr]

    first, again, other = gateway_factory(seed=1), gateway_factory(seed=1), gateway_factory(seed=2)
    assert ask(first) == ask(again) == ask(first)
    assert ask(other)[0] != ask(first)[0] and ask(other)[1] != ask(first)[1]


def test_generated_words_setting_sets_the_length(gateway_factory: Callable[..., MockGateway]) -> None:
    short, long = gateway_factory(generated_words=3), gateway_factory(generated_words=60)
    texts = [
        _client(g).chat.completions.create(model="openai/gpt-4o", messages=MESSAGES).choices[0].message.content or ""
        for g in (short, long)
    ]
    assert [len(t.split()) for t in texts] == [3, 60]


def test_fixture_generate_keys(gateway: MockGateway) -> None:
    fixtures = {
        "version": 1,
        "fixtures": [
            {"name": "words", "match": {"last_user_message": "poem"}, "reply": {"generate": {"words": 7}}},
            {"name": "call", "match": {"last_user_message": "book"}, "reply": {"generate": {"tool_call": "book_room"}}},
            {
                "name": "json",
                "match": {"last_user_message": "json"},
                "reply": {"generate": {"json_schema": BOOKING["$defs"]["room"]}},
            },
        ],
    }
    mockgw = handle_on(gateway)
    mockgw.add(fixtures)
    client = _client(gateway)

    def ask(text: str) -> Any:
        message: Any = {"role": "user", "content": text}
        return client.chat.completions.create(model="openai/gpt-4o", messages=[message], tools=TOOLS).choices[0]

    assert len((ask("a poem please").message.content or "").split()) == 7
    call = ask("book it").message.tool_calls or []
    assert call[0].function.name == "book_room" and _problems(BOOKING, json.loads(call[0].function.arguments)) == []
    assert _problems(BOOKING["$defs"]["room"], json.loads(ask("json now").message.content or "")) == []
    assert [c.fixture for c in mockgw.calls] == ["words", "call", "json"]


def test_unsatisfiable_schema_still_answers_and_the_journal_warns(gateway: MockGateway) -> None:
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": r"^(\w)\1$"}},
        "required": ["code"],
    }
    tools: Any = [{"type": "function", "function": {"name": "odd", "parameters": schema}}]
    completion = _client(gateway).chat.completions.create(
        model="openai/gpt-4o", messages=MESSAGES, tools=tools, tool_choice="required"
    )
    (call,) = completion.choices[0].message.tool_calls or []
    assert "code" in json.loads(call.function.arguments)  # type: ignore[union-attr]
    (logged,) = handle_on(gateway).calls
    assert logged.status == 200
    assert "does not match" in logged.response["warnings"][0]
