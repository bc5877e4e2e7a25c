"""Properties over a real socket (one server for the module, few examples): no body breaks the gateway,
every reply fits the schemas, and a stream reassembles to the non-streamed answer.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockgw.core.names import SESSION_HEADER
from mockgw.gateway.config import Settings
from mockgw.gateway.validation import check_response
from mockgw.server.runner import MockGateway
from tests.support.rawhttp import Answer, chat, journal, sse_events

EXAMPLES = settings(max_examples=40, deadline=None, database=None)


@pytest.fixture(scope="module")
def gw() -> Iterator[MockGateway]:
    gateway = MockGateway(Settings(port=0, fixtures=("fixtures",), seed=11)).start()
    yield gateway
    assert gateway.state.problems == []
    gateway.stop()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)

MODELS = ["openai/gpt-4o", "gpt-4o", "anthropic/claude-haiku-4-5:bedrock", "mistral/devstral2", "openai/gpt-1", "x"]
TEXTS = st.sampled_from(["hello", "What is the weather in Paris?", ""]) | st.text(max_size=40)
WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}
OTHER_TOOL = {"type": "function", "function": {"name": "lookup-v2", "description": "Look something up."}}

messages = st.lists(
    st.fixed_dictionaries({"role": st.sampled_from(["user", "system", "developer", "assistant"]), "content": TEXTS}),
    min_size=1,
    max_size=4,
)


@st.composite
def chat_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Valid chat requests: varied models, messages, tools, tool_choice, max_tokens, tags."""
    body: dict[str, Any] = {
        "model": draw(st.sampled_from(MODELS[:4])),
        "messages": [*draw(messages), {"role": "user", "content": draw(TEXTS)}],
    }
    if draw(st.booleans()):
        body["tools"] = draw(
            st.lists(st.sampled_from([WEATHER_TOOL, OTHER_TOOL]), min_size=1, max_size=2, unique_by=id)
        )
        body["tool_choice"] = draw(st.sampled_from(["auto", "none", "required", {"type": "auto"}]))
    if draw(st.booleans()):
        body[draw(st.sampled_from(["max_tokens", "max_completion_tokens"]))] = draw(st.integers(1, 40))
    if draw(st.booleans()):
        body["tags"] = draw(st.lists(st.sampled_from(["flaky", "a", "b"]), max_size=2))
    return body


@st.composite
def damaged_bodies(draw: st.DrawFn) -> Any:
    """A valid body with one field (top-level or inside the first message) replaced by any JSON value."""
    body = draw(chat_bodies())
    value = draw(json_values)
    if draw(st.booleans()):
        body[draw(st.sampled_from([*body, "stream", "stream_options", "tool_choice", "tools", "n"]))] = value
    else:
        body["messages"][0][draw(st.sampled_from(["role", "content", "tool_calls", "name", "tool_call_id"]))] = value
    return body


def assert_valid_reply(answer: Answer, streamed: bool) -> None:
    if answer.status != 200:
        assert check_response("error", answer.json()) == []
        return
    if streamed:
        events = sse_events(answer.body)
        assert events[-1] == b"[DONE]"
        for event in events[:-1]:
            assert check_response("chat_chunk", json.loads(event)) == []
    else:
        assert check_response("chat_response", answer.json()) == []


def send_and_count(gw: MockGateway, body: Any) -> Answer:
    """Send in a fresh session (so fixture reply sequences start over) and check the call was journaled."""
    session = uuid.uuid4().hex
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = chat(gw.port, data, {SESSION_HEADER: session})
    assert len(journal(gw.port, session=session)) == 1  # every request lands in the journal
    return answer


@EXAMPLES
@given(body=json_values | damaged_bodies())
def test_no_json_body_gets_a_5xx(gw: MockGateway, body: Any) -> None:
    answer = send_and_count(gw, body)
    assert answer.status < 500, answer.body
    streamed = isinstance(body, dict) and body.get("stream") is True
    assert_valid_reply(answer, streamed and answer.status == 200)


@EXAMPLES
@given(body=st.binary(max_size=64))
def test_no_byte_string_gets_a_5xx(gw: MockGateway, body: bytes) -> None:
    answer = send_and_count(gw, body)
    assert answer.status < 500
    assert check_response("error", answer.json()) == [] if answer.status != 200 else True


def reassemble(body: bytes) -> dict[str, Any]:
    """The message a client builds from the stream's deltas."""
    content = ""
    calls: dict[int, dict[str, str]] = {}
    finish = None
    usage = None
    for event in sse_events(body)[:-1]:
        chunk = json.loads(event)
        usage = chunk.get("usage", usage)
        for choice in chunk["choices"]:
            delta = choice["delta"]
            content += delta.get("content") or ""
            for fragment in delta.get("tool_calls", ()):
                call = calls.setdefault(fragment["index"], {"name": "", "arguments": ""})
                call["name"] += fragment.get("function", {}).get("name", "")
                call["arguments"] += fragment.get("function", {}).get("arguments", "")
            finish = choice["finish_reason"] or finish
    return {"content": content, "tool_calls": [calls[i] for i in sorted(calls)], "finish": finish, "usage": usage}


@EXAMPLES
@given(body=chat_bodies())
def test_stream_reassembles_to_the_plain_answer(gw: MockGateway, body: dict[str, Any]) -> None:
    plain = send_and_count(gw, body)
    streamed = send_and_count(gw, {**body, "stream": True, "stream_options": {"include_usage": True}})
    assert plain.status == streamed.status
    assert_valid_reply(plain, streamed=False)
    assert_valid_reply(streamed, streamed=True)
    if plain.status != 200:
        assert plain.body == streamed.body
        return
    expected = plain.json()
    message = expected["choices"][0]["message"]
    got = reassemble(streamed.body)
    assert got["content"] == (message["content"] or "")
    assert got["tool_calls"] == [
        {"name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in message.get("tool_calls", ())
    ]
    assert got["finish"] == expected["choices"][0]["finish_reason"]
    assert got["usage"] == expected["usage"]


@EXAMPLES
@given(body=chat_bodies())
def test_same_seed_same_request_same_text(gw: MockGateway, body: dict[str, Any]) -> None:
    first = send_and_count(gw, body)
    second = send_and_count(gw, body)
    assert first.status == second.status
    if first.status == 200:
        assert without_call_ids(first.json()["choices"]) == without_call_ids(second.json()["choices"])
        assert first.json()["usage"] == second.json()["usage"]


def without_call_ids(choices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Choices with tool-call ids blanked: ids come from the per-session sequence, not from the request."""
    out = json.loads(json.dumps(choices))
    for choice in out:
        for call in choice["message"].get("tool_calls", ()):
            call["id"] = "call_"
    return out
