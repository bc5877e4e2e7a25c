"""`POST /v1/messages` with the official anthropic SDK (and raw httpx for framing and errors), over a socket."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx2 as httpx
import pytest

from mockgw.gateway.auth import ApiKey
from mockgw.gateway.validation import check_response
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY
from tests.support.tool_fixtures import WEATHER_PARAMETERS, tool_gateway

GREETING = "Hello! How can I assist you today?"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": WEATHER_PARAMETERS,
}


@pytest.fixture
def tool_client(gateway_factory: Callable[..., MockGateway], tmp_path: Path) -> anthropic.Anthropic:
    gateway = tool_gateway(gateway_factory, tmp_path)
    return anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0)


@pytest.fixture
def client(gateway: MockGateway) -> anthropic.Anthropic:
    # the SDK sends `x-api-key` and appends /v1/messages to the base URL
    return anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0)


def test_create_answers_with_the_fixture_in_anthropic_shape(client: anthropic.Anthropic) -> None:
    raw = client.messages.with_raw_response.create(
        model="claude-sonnet-4.5", max_tokens=1024, messages=[{"role": "user", "content": "hello"}]
    )
    message = raw.parse()
    assert raw.headers["x-edgee-provider"] == "anthropic"
    assert message.id.startswith("msg_") and message.type == "message" and message.role == "assistant"
    assert message.model == "claude-sonnet-4.5"
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == GREETING  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_system_prompt_as_blocks_and_multi_turn(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model="anthropic/claude-sonnet-4.5",
        max_tokens=1024,
        system=[{"type": "text", "text": "Be brief."}],
        messages=[
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris."},
            {"role": "user", "content": [{"type": "text", "text": "hello"}]},
        ],
    )
    assert message.content[0].text == GREETING  # type: ignore[union-attr]


def test_stream_helper_gives_the_same_message_as_create(client: anthropic.Anthropic) -> None:
    request = {"model": "claude-sonnet-4.5", "max_tokens": 1024, "messages": [{"role": "user", "content": "hello"}]}
    created = client.messages.create(**request)  # type: ignore[call-overload]
    with client.messages.stream(**request) as stream:  # type: ignore[arg-type]
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == GREETING
    assert [b.to_dict() for b in final.content] == [b.to_dict() for b in created.content]
    assert final.stop_reason == "end_turn"
    assert final.usage.to_dict() == created.usage.to_dict()


def test_tool_use_then_tool_result_turn(tool_client: anthropic.Anthropic) -> None:
    client = tool_client
    question = {"role": "user", "content": "What is the weather in Paris?"}
    first = client.messages.create(
        model="claude-sonnet-4.5",
        max_tokens=1024,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[question],  # type: ignore[list-item]
    )
    assert first.stop_reason == "tool_use"
    tool_use = next(block for block in first.content if block.type == "tool_use")
    assert tool_use.name == "get_weather" and tool_use.input == {"city": "Paris"}

    second = client.messages.create(
        model="claude-sonnet-4.5",
        max_tokens=1024,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[
            question,  # type: ignore[list-item]
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "22 C"}]},
        ],
    )
    assert second.stop_reason == "end_turn"
    assert second.content[0].type == "text" and second.content[0].text == "It is 22 C in Paris."


def test_streamed_tool_use_reassembles_its_input(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        model="claude-sonnet-4.5",
        max_tokens=1024,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
    ) as stream:
        final = stream.get_final_message()
    tool_use = final.content[-1]
    assert tool_use.type == "tool_use" and tool_use.input == {"city": "Paris"}
    assert final.stop_reason == "tool_use"


def test_count_tokens_equals_the_input_tokens_of_create(client: anthropic.Anthropic) -> None:
    request: dict[str, Any] = {
        "model": "claude-sonnet-4.5",
        "system": "You are terse.",
        "tools": [WEATHER_TOOL],
        "messages": [{"role": "user", "content": "What is the weather in Paris today?"}],
    }
    counted = client.messages.count_tokens(**request)
    created = client.messages.create(max_tokens=1024, **request)
    assert counted.input_tokens == created.usage.input_tokens > 0


def test_streaming_a_model_not_served_by_anthropic_is_refused(client: anthropic.Anthropic) -> None:
    with (
        pytest.raises(anthropic.BadRequestError) as caught,
        client.messages.stream(
            model="openai/gpt-4o", max_tokens=100, messages=[{"role": "user", "content": "hello"}]
        ) as stream,
    ):
        stream.get_final_message()
    assert caught.value.body == {
        "error": {
            "code": "streaming_not_supported",
            "message": "Streaming for Messages API is only supported when the model uses the Anthropic provider",
            "type": "invalid_request_error",
            "param": "stream",
        }
    }


def test_non_streamed_request_for_another_provider_names_it(client: anthropic.Anthropic) -> None:
    raw = client.messages.with_raw_response.create(
        model="openai/gpt-4o", max_tokens=100, messages=[{"role": "user", "content": "hello"}]
    )
    assert raw.headers["x-edgee-provider"] == "openai"
    assert raw.parse().content[0].text == GREETING  # type: ignore[union-attr]


def test_raw_sse_framing(gateway: MockGateway) -> None:
    body = {
        "model": "claude-sonnet-4.5",
        "max_tokens": 64,
        "stream": True,
        "messages": [{"role": "user", "content": "hello"}],
    }
    with httpx.stream("POST", f"{gateway.url}/v1/messages", json=body, headers={"x-api-key": API_KEY}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = response.read().decode()
    events = raw.split("\n\n")
    assert events[-1] == ""
    names = []
    for event in events[:-1]:
        name_line, data_line = event.split("\n")
        name = name_line.removeprefix("event: ")
        assert json.loads(data_line.removeprefix("data: "))["type"] == name
        names.append(name)
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-4:] == ["content_block_delta", "content_block_stop", "message_delta", "message_stop"]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"x-api-key": API_KEY}, 200, None),
        ({"authorization": f"Bearer {API_KEY}"}, 200, None),
        ({"x-edgee-api-key": API_KEY}, 200, None),
    ],
)
def test_credentials(gateway: MockGateway, headers: dict[str, str], status: int, code: str | None) -> None:
    body = {"model": "claude-sonnet-4.5", "max_tokens": 64, "messages": [{"role": "user", "content": "hello"}]}
    response = httpx.post(f"{gateway.url}/v1/messages", json=body, headers=headers)
    assert response.status_code == status
    if code:
        assert response.json()["error"]["code"] == code
        assert check_response("error", response.json()) == []
    else:
        assert check_response("messages_response", response.json()) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"model": 3, "messages": "x"},
        {"model": "claude-sonnet-4.5", "messages": [1, None, {"role": 5, "content": {"a": 1}}], "max_tokens": "x"},
        {"model": "claude-sonnet-4.5", "messages": [{"role": "user", "content": [{"type": "tool_use"}, 7]}]},
        {"model": "claude-sonnet-4.5", "messages": [], "tools": [1, {"name": 2}], "tool_choice": "any", "system": 9},
    ],
)
def test_malformed_bodies_get_a_4xx_envelope_never_a_500(gateway: MockGateway, body: dict[str, object]) -> None:
    response = httpx.post(f"{gateway.url}/v1/messages", json=body, headers={"x-api-key": API_KEY})
    assert response.status_code < 500, response.text
    assert gateway.state.problems == []


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
def test_x_api_key_wins_over_authorization(gateway_factory: Callable[..., MockGateway], path: str) -> None:
    gateway = gateway_factory(keys=(ApiKey("sk-good"),))
    body = {"model": "claude-sonnet-4.5", "max_tokens": 64, "messages": [{"role": "user", "content": "hello"}]}
    both = {"x-api-key": "sk-good", "authorization": "Bearer sk-unknown"}
    assert httpx.post(f"{gateway.url}{path}", json=body, headers=both).status_code == 200
    swapped = {"x-api-key": "sk-unknown", "authorization": "Bearer sk-good"}
    assert httpx.post(f"{gateway.url}{path}", json=body, headers=swapped).status_code == 401
