"""Recording a foreign OpenAI-compatible gateway through the openai SDK, then replaying with the upstream gone."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from mockgw import cli
from mockgw.server.runner import MockGateway
from tests.record.conftest import KEY
from tests.record.foreign import ORGANIZATION, SET_COOKIE, ForeignGateway

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}},
    },
}
MODEL = "openai/gpt-4o"


def _client(gateway: MockGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=KEY, max_retries=0)


def _session(gateway: MockGateway) -> dict[str, Any]:
    """What one client run sees: every answer as the SDK parsed it (ids included), every event in order."""
    client = _client(gateway)
    seen: dict[str, Any] = {}
    hello = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hello there"}])
    seen["json"] = hello.model_dump()
    chunks = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "what is the weather in Paris?"}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        stream=True,
        stream_options={"include_usage": True},
    )
    seen["stream"] = [chunk.model_dump() for chunk in chunks]  # the SDK closes the socket right after [DONE]
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "over the limit"}])
    seen["429"] = (limited.value.status_code, limited.value.response.headers.get("retry-after"), limited.value.body)
    cut: list[Any] = []
    with pytest.raises(openai.APIError):
        for chunk in client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "cut me off"}], stream=True
        ):
            cut.append(chunk.model_dump())
    seen["cut"] = cut
    early = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "leave early"}], stream=True
    )
    seen["early"] = next(iter(early)).model_dump()  # the client leaves before [DONE]
    early.close()
    seen["models"] = [m.model_dump() for m in client.models.list()]
    return seen


def test_foreign_gateway_recorded_then_replayed_identically(
    foreign: ForeignGateway,
    recorder_factory: Callable[..., MockGateway],
    replayer_factory: Callable[..., MockGateway],
    tmp_path: Path,
) -> None:
    out = tmp_path / "recordings"
    recorder = recorder_factory(foreign.url, out, mode="all")
    recorded = _session(recorder)
    recorder.stop()

    assert recorded["json"]["choices"][0]["message"]["content"] == "Bonjour from the foreign gateway"
    tool_call = next(c for c in recorded["stream"] if c["choices"] and c["choices"][0]["delta"].get("tool_calls"))
    assert tool_call["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert recorded["stream"][-1]["usage"]["completion_tokens"] == 5
    assert recorded["429"][0] == 429 and recorded["429"][1] == "2"
    assert len(recorded["cut"]) == 3
    # the client's own key went upstream (passed through)
    assert all(seen.get("Authorization") == f"Bearer {KEY}" for seen in foreign.seen)

    files = sorted(out.glob("*.yaml"))
    assert [f.name for f in files] == ["recorded.yaml"]
    text = files[0].read_text(encoding="utf-8")
    for secret in (KEY, SET_COOKIE, ORGANIZATION, "sess-cookie-value"):
        assert secret not in text
    assert cli.check([str(out)]) == 0

    fixtures = {f["name"]: f for f in yaml.safe_load(text)["fixtures"]}
    stream = fixtures["chat-what-is-the-weather-in-paris-stream"]
    assert stream["match"] == {
        "endpoint": "chat",
        "model": MODEL,
        "stream": True,
        "turn": 0,
        "last_user_message": {"equals": "what is the weather in Paris?"},
        "tools": ["get_weather"],
    }
    assert stream["reply"]["tool_calls"] == [
        {"id": "call_foreign_1", "name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}
    ]
    assert stream["reply"]["finish_reason"] == "tool_calls"
    events = stream["reply"]["recorded"]["events"]
    assert events[0]["data"] == ": keep-alive\r\n\r\n"
    assert events[-1]["data"] == "data: [DONE]\r\n\r\n"
    assert all(later["ms"] >= earlier["ms"] for earlier, later in itertools.pairwise(events))
    assert stream["reply"]["recorded"]["complete"] is True
    limited = fixtures["chat-over-the-limit"]["reply"]
    assert limited["error"] == {
        "status": 429,
        "code": "rate_limited",
        "message": "Slow down: 2 requests per minute",
        "type": "rate_limit_error",
        "retry_after": 2,
    }
    assert fixtures["chat-cut-me-off-stream"]["reply"]["recorded"]["complete"] is False
    assert fixtures["chat-leave-early-stream"]["reply"]["recorded"]["complete"] is True  # saved in full
    assert fixtures["chat-hello-there"]["reply"]["content"] == "Bonjour from the foreign gateway"

    foreign.stop()
    replayer = replayer_factory(out)
    replayed = _session(replayer)
    assert replayed == recorded


def test_one_file_per_session_and_the_folder_serves_as_a_whole(
    foreign: ForeignGateway,
    recorder_factory: Callable[..., MockGateway],
    replayer_factory: Callable[..., MockGateway],
    tmp_path: Path,
) -> None:
    out = tmp_path / "recordings"
    recorder = recorder_factory(foreign.url, out, mode="all")
    for session in ("suite-a", "suite-b"):
        client = openai.OpenAI(base_url=f"{recorder.url}/s/{session}/v1", api_key=KEY, max_retries=0)
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hello there"}])
    recorder.stop()
    assert sorted(p.name for p in out.iterdir()) == ["suite-a.yaml", "suite-b.yaml"]
    names = [f["name"] for f in yaml.safe_load((out / "suite-b.yaml").read_text())["fixtures"]]
    assert names == ["suite-b-chat-hello-there"]
    foreign.stop()
    replayer = replayer_factory(out)  # no clash of names across the files
    answer = _client(replayer).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hello there"}]
    )
    assert answer.id == "chatcmpl-foreign-json"


def test_once_replays_an_existing_file_and_refuses_what_it_does_not_hold(
    foreign: ForeignGateway, recorder_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    out = tmp_path / "recordings"
    first = recorder_factory(foreign.url, out, mode="once")
    _client(first).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hello there"}])
    first.stop()
    assert len(foreign.seen) == 1  # no file yet: recorded

    again = recorder_factory(foreign.url, out, mode="once", fixtures=(str(out),))
    replayed = _client(again).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hello there"}]
    )
    assert replayed.id == "chatcmpl-foreign-json"
    with pytest.raises(openai.NotFoundError) as missing:
        _client(again).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "never seen"}])
    assert missing.value.code == "not_recorded"
    assert "--mode new" in missing.value.message
    assert len(foreign.seen) == 1  # the file exists: nothing went upstream
