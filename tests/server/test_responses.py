"""`POST /v1/responses` with the official openai SDK (and raw httpx for framing), over a socket."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import openai
import pytest

from mockgw.gateway.validation import check_response
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY
from tests.support.tool_fixtures import WEATHER_PARAMETERS, tool_gateway

GREETING = "Hello! How can I assist you today?"
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get current weather for a location",
    "parameters": WEATHER_PARAMETERS,
}


@pytest.fixture
def client(gateway: MockGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)


@pytest.fixture
def tool_client(gateway_factory: Callable[..., MockGateway], tmp_path: Path) -> openai.OpenAI:
    gateway = tool_gateway(gateway_factory, tmp_path)
    return openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)


def test_create_plain(client: openai.OpenAI) -> None:
    raw = client.responses.with_raw_response.create(model="openai/gpt-4o", input="hello")
    response = raw.parse()
    assert raw.headers["x-edgee-provider"] == "openai"
    assert response.id.startswith("resp_") and response.object == "response"
    assert response.status == "completed"
    assert response.output_text == GREETING
    assert response.output[0].type == "message"
    assert response.output[0].content[0].text == GREETING  # type: ignore[union-attr]
    assert response.usage is not None
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens > 0


def test_instructions_and_message_items(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model="anthropic/claude-sonnet-4-6",
        instructions="Be concise.",
        input=[
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": [{"type": "output_text", "text": "Paris."}]},  # type: ignore[misc, list-item]
            {"role": "user", "content": [{"type": "input_text", "text": "hello"}]},
        ],
        max_output_tokens=256,
    )
    assert response.output_text == GREETING


def test_stream_true_reassembles_to_the_created_response(client: openai.OpenAI) -> None:
    created = client.responses.create(model="openai/gpt-4o", input="hello")
    events = list(client.responses.create(model="openai/gpt-4o", input="hello", stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == GREETING
    final = events[-1].response
    assert final.output_text == created.output_text
    assert final.usage == created.usage


def test_stream_helper(client: openai.OpenAI) -> None:
    with client.responses.stream(model="openai/gpt-4o", input="hello") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == GREETING
    assert final.output_text == GREETING


def test_function_call_then_output_turn(tool_client: openai.OpenAI) -> None:
    first = tool_client.responses.create(
        model="openai/gpt-4o",
        input="What is the weather in Paris?",
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
    )
    call = first.output[0]
    assert call.type == "function_call"
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    assert call.call_id.startswith("call_")
    second = tool_client.responses.create(
        model="openai/gpt-4o",
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        input=[
            {"role": "user", "content": "What is the weather in Paris?"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": '{"temperature": 22}'},
        ],
    )
    assert second.output_text == "It is 22 C in Paris."


def test_streamed_function_call_with_the_helper(tool_client: openai.OpenAI) -> None:
    with tool_client.responses.stream(
        model="openai/gpt-4o",
        input="What is the weather in Paris?",
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
    ) as stream:
        argument_deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    call = final.output[0]
    assert call.type == "function_call" and call.name == "get_weather"
    assert "".join(argument_deltas) == call.arguments
    assert json.loads(call.arguments) == {"city": "Paris"}


def test_raw_sse_framing_and_event_order(gateway: MockGateway) -> None:
    body = {"model": "openai/gpt-4o", "input": "hello", "stream": True}
    headers = {"authorization": f"Bearer {API_KEY}"}
    with httpx.stream("POST", f"{gateway.url}/v1/responses", json=body, headers=headers) as response:
        assert response.status_code == 200
        raw = response.read().decode()
    names = []
    for event in raw.split("\n\n")[:-1]:
        name_line, data_line = event.split("\n")
        data = json.loads(data_line.removeprefix("data: "))
        assert name_line == f"event: {data['type']}"
        names.append(data["type"])
    assert names[:5] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert names[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]


@pytest.mark.parametrize("input_text", ["hello", "What is the weather in Paris?"])
def test_bodies_validate_against_the_published_schema(gateway: MockGateway, input_text: str) -> None:
    body = {"model": "openai/gpt-4o", "input": input_text, "tools": [WEATHER_TOOL]}
    response = httpx.post(f"{gateway.url}/v1/responses", json=body, headers={"authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 200
    assert check_response("responses_response", response.json()) == []


def test_missing_key_is_401(gateway: MockGateway) -> None:
    response = httpx.post(f"{gateway.url}/v1/responses", json={"model": "openai/gpt-4o", "input": "hello"})
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "unauthorized",
        "message": "Missing Authorization header",
        "type": "authentication_error",
        "param": None,
    }


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"model": "openai/gpt-4o", "input": 5},
        {"model": "openai/gpt-4o", "input": [1, None, {"type": "function_call"}, {"role": 3, "content": {}}]},
        {"model": "openai/gpt-4o", "input": "x", "tools": [1, {"type": "function"}], "tool_choice": 4, "text": 1},
        {"model": "openai/gpt-4o", "input": "x", "max_output_tokens": True, "tags": "a", "instructions": 2},
    ],
)
def test_malformed_bodies_get_a_4xx_envelope_never_a_500(gateway: MockGateway, body: dict[str, object]) -> None:
    response = httpx.post(f"{gateway.url}/v1/responses", json=body, headers={"authorization": f"Bearer {API_KEY}"})
    assert response.status_code < 500, response.text
    assert gateway.state.problems == []
