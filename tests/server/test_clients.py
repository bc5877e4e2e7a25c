"""The real clients (edgee, openai sync and async, raw HTTP) against a running gateway, over a socket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import openai
import pytest
from edgee import Edgee, InputObject

from mockgw.gateway.config import Settings
from mockgw.gateway.validation import check_response
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY
from tests.requests import WEATHER_TOOL
from tests.support.rawhttp import chat, request, sse_events

GREETING = "Hello! How can I assist you today?"
WEATHER_QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture(scope="module")
def gw() -> Iterator[MockGateway]:
    gateway = MockGateway(Settings(port=0, fixtures=("fixtures",))).start()
    yield gateway
    assert gateway.state.problems == []
    gateway.stop()


@pytest.fixture
def edgee(gw: MockGateway, monkeypatch: pytest.MonkeyPatch) -> Edgee:
    monkeypatch.setenv("EDGEE_BASE_URL", gw.url)
    return Edgee(API_KEY)


@pytest.fixture
def client(gw: MockGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url, api_key=API_KEY, max_retries=0)


def accumulate_tool_calls(deltas: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """OpenAI's incremental tool-call form put back together: first fragment has id and name, then arguments."""
    calls: dict[int, dict[str, Any]] = {}
    for fragments in deltas:
        for fragment in fragments:
            call = calls.setdefault(fragment["index"], {"id": None, "name": "", "arguments": ""})
            call["id"] = fragment.get("id") or call["id"]
            function = fragment.get("function") or {}
            call["name"] += function.get("name") or ""
            call["arguments"] += function.get("arguments") or ""
    return [calls[i] for i in sorted(calls)]


# --- the official edgee SDK -------------------------------------------------------------------------------------


def test_edgee_send(edgee: Edgee) -> None:
    answer = edgee.send(model="openai/gpt-4o", input="hello")
    assert answer.text == GREETING
    assert answer.finish_reason == "stop"
    assert answer.usage is not None
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens > 0


def test_edgee_stream(edgee: Edgee) -> None:
    chunks = list(edgee.stream(model="openai/gpt-4o", input="hello"))
    assert chunks[0].role == "assistant"
    assert "".join(c.text or "" for c in chunks) == GREETING
    assert len([c for c in chunks if c.text]) > 1  # really streamed, piece by piece
    assert chunks[-1].finish_reason == "stop"


def test_edgee_tool_call(edgee: Edgee) -> None:
    answer = edgee.send(model="openai/gpt-4o", input=InputObject(messages=WEATHER_QUESTION, tools=[WEATHER_TOOL]))
    assert answer.finish_reason == "tool_calls"
    assert answer.text is None
    (call,) = answer.tool_calls or []
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}


def test_edgee_streamed_tool_call(edgee: Edgee) -> None:
    chunks = list(edgee.stream(model="openai/gpt-4o", input={"messages": WEATHER_QUESTION, "tools": [WEATHER_TOOL]}))
    deltas = [c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    (call,) = accumulate_tool_calls(deltas)
    assert call["name"] == "get_weather" and call["id"].startswith("call_")
    assert json.loads(call["arguments"]) == {"city": "Paris"}
    assert chunks[-1].finish_reason == "tool_calls"


def test_edgee_tool_result_round_trip(edgee: Edgee, gw: MockGateway) -> None:
    answer_fixture = {
        "name": "weather-answer",
        "priority": 1,
        "match": {"any_message": "temperature"},
        "reply": {"content": "It is 18°C in Paris."},
    }
    assert request(gw.port, "POST", "/__mockgw/fixtures", answer_fixture).status == 201
    first = edgee.send(model="openai/gpt-4o", input={"messages": WEATHER_QUESTION, "tools": [WEATHER_TOOL]})
    (call,) = first.tool_calls or []
    messages = [
        *WEATHER_QUESTION,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": '{"temperature": 18}'},
    ]
    try:
        second = edgee.send(model="openai/gpt-4o", input={"messages": messages, "tools": [WEATHER_TOOL]})
    finally:
        request(gw.port, "DELETE", "/__mockgw/fixtures?name=weather-answer")
    assert second.finish_reason == "stop"
    assert second.text == "It is 18°C in Paris."


def test_edgee_error_surfaces_the_envelope(edgee: Edgee) -> None:
    with pytest.raises(RuntimeError, match=r"API error 400: .*\"code\":\"model_not_found\""):
        edgee.send(model="openai/gpt-1", input="hello")


# --- the openai SDK, sync ---------------------------------------------------------------------------------------


def test_openai_create(client: openai.OpenAI, gw: MockGateway) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}]
    )
    assert raw.status_code == 200
    assert raw.headers["x-edgee-provider"] == "openai"
    completion = raw.parse()
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "openai/gpt-4o"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == GREETING
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_openai_stream_with_usage(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": "hello"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == GREETING
    assert all(c.usage is None for c in chunks[:-1])
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert len({c.id for c in chunks}) == 1


def test_openai_stream_without_usage(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}], stream=True
        )
    )
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_openai_tool_calls(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=WEATHER_QUESTION,  # type: ignore[arg-type]
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]


def test_openai_streamed_tool_calls(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model="openai/gpt-4o",
        messages=WEATHER_QUESTION,  # type: ignore[arg-type]
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
    ) as stream:
        final = stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"


def test_openai_models_list(client: openai.OpenAI) -> None:
    models = list(client.models.list())
    ids = [m.id for m in models]
    assert "openai/gpt-4o" in ids and "anthropic/claude-haiku-4-5" in ids
    gpt = next(m for m in models if m.id == "openai/gpt-4o")
    assert gpt.owned_by == "openai" and gpt.object == "model"


@pytest.mark.parametrize(
    ("model", "error", "code"),
    [
        ("openai/gpt-1", openai.BadRequestError, "model_not_found"),
        ("invalid-model", openai.BadRequestError, "bad_model_id"),
        ("openai/gpt-5.2:anthropic", openai.BadRequestError, "provider_not_supported"),
    ],
)
def test_openai_errors(client: openai.OpenAI, model: str, error: type[openai.APIStatusError], code: str) -> None:
    with pytest.raises(error) as raised:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hello"}])
    assert raised.value.code == code
    assert raised.value.body["code"] == code  # type: ignore[index]


def test_openai_auth_errors(gateway_factory: Any) -> None:
    from mockgw.gateway.auth import ApiKey

    gateway = gateway_factory(keys=(ApiKey("good"), ApiKey("old", state="expired")))
    for key, error in (("bad", openai.AuthenticationError), ("old", openai.PermissionDeniedError)):
        client = openai.OpenAI(base_url=gateway.base_url, api_key=key, max_retries=0)
        with pytest.raises(error):
            client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}])


# --- the openai SDK, async ----------------------------------------------------------------------------------------


async def test_async_openai(gw: MockGateway) -> None:
    client = openai.AsyncOpenAI(base_url=gw.base_url, api_key=API_KEY, max_retries=0)
    try:
        completion = await client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}]
        )
        assert completion.choices[0].message.content == GREETING
        stream = await client.chat.completions.create(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": "hello"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == GREETING
        assert chunks[-1].usage is not None
        models = [m.id async for m in client.models.list()]
        assert "openai/gpt-5.2" in models
        tool = await client.chat.completions.create(
            model="openai/gpt-4o",
            messages=WEATHER_QUESTION,  # type: ignore[arg-type]
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
        )
        assert tool.choices[0].message.tool_calls
    finally:
        await client.close()


# --- raw HTTP: the exact bytes ----------------------------------------------------------------------------------


def test_non_streaming_answer_shape(gw: MockGateway) -> None:
    answer = chat(gw.port, {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]})
    assert answer.status == 200
    assert answer.headers.get_content_type() == "application/json"
    assert answer.headers["X-Edgee-Provider"] == "openai"
    body = answer.json()
    assert check_response("chat_response", body) == []
    assert list(body) == ["id", "object", "created", "model", "choices", "usage"]
    assert body["id"].startswith("chatcmpl-") and body["object"] == "chat.completion"
    assert isinstance(body["created"], int) and body["model"] == "gpt-4o"
    assert body["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": GREETING}, "finish_reason": "stop"}
    ]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["input_tokens_details"] == {"cached_tokens": 0}
    assert usage["output_tokens_details"] == {"reasoning_tokens": 0}


def test_non_streaming_tool_call_shape(gw: MockGateway) -> None:
    body = chat(gw.port, {"model": "openai/gpt-4o", "messages": WEATHER_QUESTION, "tools": [WEATHER_TOOL]}).json()
    assert check_response("chat_response", body) == []
    message = body["choices"][0]["message"]
    assert message["content"] is None
    (call,) = message["tool_calls"]
    assert set(call) == {"id", "type", "function"} and call["type"] == "function"
    assert body["usage"]["completion_tokens"] > 0


@pytest.mark.parametrize("include_usage", [True, False, None])
def test_sse_framing_bytes(gw: MockGateway, include_usage: bool | None) -> None:
    body: dict[str, Any] = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hello"}]}
    body["stream"] = True
    if include_usage is not None:
        body["stream_options"] = {"include_usage": include_usage}
    answer = chat(gw.port, body)
    assert answer.status == 200
    assert answer.headers.get_content_type() == "text/event-stream"
    assert answer.headers["X-Edgee-Provider"] == "openai"
    events = sse_events(answer.body)
    assert answer.body.endswith(b"data: [DONE]\n\n")
    assert events[-1] == b"[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    for chunk in chunks:
        assert check_response("chat_chunk", chunk) == [], chunk
        assert chunk["object"] == "chat.completion.chunk" and chunk["model"] == "openai/gpt-4o"
        assert len(chunk["choices"]) == 1 and chunk["choices"][0]["index"] == 0
    assert len({(c["id"], c["created"]) for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == GREETING
    with_usage = [c for c in chunks if "usage" in c]
    if include_usage:
        assert with_usage == [chunks[-1]]
        assert chunks[-1]["usage"]["input_tokens_details"] == {"cached_tokens": 0}
    else:
        assert with_usage == []


def test_sse_tool_call_deltas(gw: MockGateway) -> None:
    body = {"model": "openai/gpt-4o", "messages": WEATHER_QUESTION, "tools": [WEATHER_TOOL], "stream": True}
    answer = chat(gw.port, body)
    chunks = [json.loads(e) for e in sse_events(answer.body)[:-1]]
    for chunk in chunks:
        assert check_response("chat_chunk", chunk) == [], chunk
    fragments = [c["choices"][0]["delta"]["tool_calls"] for c in chunks if "tool_calls" in c["choices"][0]["delta"]]
    assert len(fragments) > 1
    opening = fragments[0][0]
    assert opening["index"] == 0 and opening["type"] == "function" and opening["id"].startswith("call_")
    assert opening["function"] == {"name": "get_weather", "arguments": ""}
    assert all(set(f[0]) == {"index", "function"} and set(f[0]["function"]) == {"arguments"} for f in fragments[1:])
    (call,) = accumulate_tool_calls(fragments)
    assert json.loads(call["arguments"]) == {"city": "Paris"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_sse_events_arrive_as_lines_with_aiohttp(gw: MockGateway) -> None:
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hello"}], "stream": True}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gw.base_url}/chat/completions", json=body, headers=headers) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        lines = [line async for line in response.content]
    assert lines[-2:] == [b"data: [DONE]\n", b"\n"]
    assert all(line == b"\n" for line in lines[1::2])
    assert all(line.startswith(b"data: ") for line in lines[0::2])
