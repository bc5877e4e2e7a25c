"""Recording a second mockgw (another process, other fixtures and seed) through the edgee, anthropic and openai
SDKs on every documented endpoint, then replaying with the upstream stopped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import openai
import pytest
import yaml
from edgee import Edgee

from mockgw import cli
from mockgw.server.runner import MockGateway
from tests.record.conftest import KEY, MockgwProcess

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _agent(client: openai.OpenAI) -> list[Any]:
    """A two-turn agent run: the model calls get_weather, the tool answers, the model answers."""
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    answers = []
    for _ in range(3):
        completion = client.chat.completions.create(model="openai/gpt-4o", messages=messages, tools=[WEATHER])  # type: ignore[list-item]
        answers.append(completion.model_dump())
        message = completion.choices[0].message
        if not message.tool_calls:
            break
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            messages.append({"role": "tool", "tool_call_id": call.id, "content": "21 degrees"})
    return answers


def _raw(gateway: MockGateway, method: str, path: str, body: Any = None) -> tuple[int, str]:
    import asyncio

    async def send() -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {KEY}"}
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, gateway.url + path, json=body, headers=headers) as response,
        ):
            return response.status, await response.text()

    return asyncio.run(send())


def _session(gateway: MockGateway, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Every client and endpoint once; what each SDK gave back."""
    seen: dict[str, Any] = {}
    gpt = openai.OpenAI(base_url=gateway.base_url, api_key=KEY, max_retries=0)
    seen["agent"] = _agent(gpt)
    seen["repeat"] = [
        gpt.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "say something"}])
        .choices[0]
        .message.content
        for _ in range(3)
    ]
    seen["responses"] = gpt.responses.create(model="openai/gpt-4o", input="hello responses").model_dump()
    seen["responses_stream"] = [
        e.model_dump() for e in gpt.responses.create(model="openai/gpt-4o", input="hello stream", stream=True)
    ]
    claude = anthropic.Anthropic(base_url=gateway.url, api_key=KEY, max_retries=0)
    seen["messages"] = claude.messages.create(
        model="anthropic/claude-sonnet-4.5", max_tokens=64, messages=[{"role": "user", "content": "hello claude"}]
    ).model_dump()
    with claude.messages.stream(
        model="anthropic/claude-sonnet-4.5", max_tokens=64, messages=[{"role": "user", "content": "hello stream"}]
    ) as stream:
        seen["messages_stream"] = [event.model_dump() for event in stream]
    monkeypatch.setenv("EDGEE_BASE_URL", gateway.url)
    edgee = Edgee(KEY)
    sent = edgee.send(model="openai/gpt-4o", input="hello edgee")
    seen["edgee"] = (sent.text, sent.finish_reason, sent.usage.prompt_tokens if sent.usage else None)
    seen["edgee_stream"] = [c.text for c in edgee.stream(model="openai/gpt-4o", input="hello edgee stream")]
    seen["models"] = [m.id for m in gpt.models.list()]
    seen["count_tokens"] = _raw(gateway, "POST", "/v1/count_tokens", {"model": "openai/gpt-4o", "input": "count me"})
    seen["compress"] = _raw(gateway, "POST", "/v1/compress", {"model": "openai/gpt-4o", "input": "squeeze me please"})
    return seen


def test_every_endpoint_and_sdk_recorded_then_replayed(
    second_mockgw: MockgwProcess,
    recorder_factory: Callable[..., MockGateway],
    replayer_factory: Callable[..., MockGateway],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    out = tmp_path / "recordings"
    recorder = recorder_factory(second_mockgw.url, out, mode="new", seed=3)
    recorded = _session(recorder, monkeypatch)
    recorder.stop()
    second_mockgw.stop()

    # what the upstream (seed 7, its own fixtures) answered, not what this mockgw would have made up
    assert recorded["agent"][0]["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert recorded["agent"][1]["choices"][0]["message"]["content"] == "It is 21 degrees in Paris."
    assert recorded["messages"]["content"][0]["text"] == "Hello from the upstream mockgw, seed seven."
    assert recorded["count_tokens"][0] == 200 and recorded["compress"][0] == 200

    assert cli.check([str(out)]) == 0
    fixtures = {f["name"]: f for f in yaml.safe_load((out / "recorded.yaml").read_text())["fixtures"]}
    # one fixture per turn of the agent run, matched by turn and tool result
    first = fixtures["chat-what-is-the-weather-in-paris"]
    second = fixtures["chat-what-is-the-weather-in-paris-turn-1-after-get-weather"]
    assert first["match"]["turn"] == 0 and "tool_result" not in first["match"]
    assert second["match"]["tool_result"] == {"name": "get_weather", "equals": "21 degrees"}
    assert second["reply"]["content"] == "It is 21 degrees in Paris."
    # identical repeated requests: one fixture, a replies: list in order
    assert len(fixtures["chat-say-something"]["replies"]) == 3
    assert {f["match"]["endpoint"] for f in fixtures.values()} == {
        "chat",
        "responses",
        "messages",
        "models",
        "count_tokens",
        "compress",
    }

    replayer = replayer_factory(out, seed=99)
    assert _session(replayer, monkeypatch) == recorded
