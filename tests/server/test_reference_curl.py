"""The curl example of the chat completions reference page, sent over a socket as curl sends it.

The page's request body (`tests.requests.REFERENCE_BODY_TEXT`, verbatim with its `<string>` placeholders) is sent
as is and with the placeholders filled in realistically; its example response is copied here as data.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from mockgw.gateway.config import Settings
from mockgw.gateway.validation import check_response
from mockgw.server.runner import MockGateway
from tests.requests import REFERENCE_BODY_TEXT
from tests.support.rawhttp import CHAT, journal, request

# The example response printed under it on the page.
REFERENCE_RESPONSE: dict[str, Any] = {
    "id": "chatcmpl-123",
    "object": "chat.completion",
    "created": 1677652288,
    "model": "openai/gpt-4o",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello! How can I assist you today?"},
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 10,
        "completion_tokens": 10,
        "total_tokens": 20,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    },
}


def filled_body() -> dict[str, Any]:
    """The reference body with every `<string>` replaced by a value a real client would send."""
    body: dict[str, Any] = json.loads(REFERENCE_BODY_TEXT)
    message = body["messages"][0]
    message.update(
        content="You are a concise weather assistant.",
        name="weather_bot",
        tool_call_id="call_abc123",
        refusal="I cannot help with that.",
    )
    message["tool_calls"][0].update(
        id="call_abc123", function={"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}
    )
    body["tools"][0]["function"].update(name="get_weather", description="Get the current weather for a city.")
    body["tags"] = ["production", "chatbot"]
    return body


@pytest.fixture(scope="module")
def gw() -> Iterator[MockGateway]:
    gateway = MockGateway(Settings(port=0)).start()
    yield gateway
    gateway.stop()


def curl(gw: MockGateway, body: bytes, token: str = "sk-edgee-3f9a2c7b1d") -> tuple[int, Any]:
    """What `curl --request POST --url …/v1/chat/completions --header … --data '…'` sends."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "User-Agent": "curl/8.5.0"}
    answer = request(gw.port, "POST", CHAT, body, headers, key=None)
    return answer.status, answer.json()


def test_the_page_example_response_fits_the_response_schema() -> None:
    assert check_response("chat_response", REFERENCE_RESPONSE) == []


def test_filled_in_example_gets_a_schema_valid_200(gw: MockGateway) -> None:
    body = filled_body()
    status, answer = curl(gw, json.dumps(body, indent=2).encode())
    assert status == 200, answer
    assert check_response("chat_response", answer) == []
    assert answer["model"] == "openai/gpt-4o"
    assert set(answer) == set(REFERENCE_RESPONSE)
    assert set(answer["usage"]) == set(REFERENCE_RESPONSE["usage"])
    choice = answer["choices"][0]
    assert choice["message"]["role"] == "assistant"
    # max_tokens 2 caps the generated answer at two tokens, and says so.
    assert answer["usage"]["completion_tokens"] == 2
    assert choice["finish_reason"] == "length"
    assert "tool_calls" not in choice["message"]  # tool_choice "none"
    (call,) = journal(gw.port, tag="chatbot")
    assert call["tags"] == ["production", "chatbot"]
    assert call["status"] == 200


def test_filled_in_example_streams_with_usage(gw: MockGateway) -> None:
    body = {**filled_body(), "stream": True}
    answer = request(gw.port, "POST", CHAT, copy.deepcopy(body), key="sk-edgee-3f9a2c7b1d")
    assert answer.status == 200
    events = answer.body.decode().split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-2]]
    assert all(check_response("chat_chunk", c) == [] for c in chunks)
    assert chunks[-1]["usage"]["completion_tokens"] == 2


def test_verbatim_example_is_refused_at_the_tool_name(gw: MockGateway) -> None:
    status, answer = curl(gw, REFERENCE_BODY_TEXT.encode(), token="<token>")
    assert status == 400
    assert check_response("error", answer) == []
    error = answer["error"]
    assert error["code"] == "invalid_request"
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "tools[0].function.name"
    assert "'<string>'" in error["message"]
