"""A real agent framework (pydantic-ai, OpenAI provider) running its own tool loop against mockgw fixtures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from mockgw.handle import CallList
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY, handle_on

FIXTURES = """\
version: 1
fixtures:
  - name: plan-trip-check-weather
    match:
      turn: 0
      tools: [get_weather, get_forecast]
      user: {regex: "trip to (?P<city>[A-Z][a-z]+)"}
    reply:
      tool_calls:
        - {name: get_weather, arguments: {city: "{{ city }}"}}
        - {name: get_forecast, arguments: {city: "{{ city }}", days: 3}}

  - name: plan-trip-answer
    match:
      turn: 1
      after_tool_call: get_forecast
      tool: {regex: "forecast: (?P<forecast>.+)"}
      user: {regex: "trip to (?P<city>[A-Z][a-z]+)"}
    reply:
      content: "Pack for {{ city }}: {{ forecast }}."
"""

WEATHER = {"Paris": "18C", "Oslo": "-3C"}


def make_agent(gateway: MockGateway, calls: list[tuple[str, Any]]) -> Agent[None, str]:
    model = OpenAIChatModel("openai/gpt-4o", provider=OpenAIProvider(base_url=gateway.base_url, api_key=API_KEY))
    agent: Agent[None, str] = Agent(model, system_prompt="You plan trips.")

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        calls.append(("get_weather", city))
        return f"weather: {WEATHER[city]}"

    @agent.tool_plain
    def get_forecast(city: str, days: int) -> str:
        """The forecast for the next days."""
        calls.append(("get_forecast", (city, days)))
        return f"forecast: rain for {days} days in {city}"

    return agent


@pytest.fixture
def gateway(gateway_factory: Callable[..., MockGateway], tmp_path: Path) -> MockGateway:
    path = tmp_path / "trip.yaml"
    path.write_text(FIXTURES, encoding="utf-8")
    return gateway_factory(fixtures=(str(path),), strict=True)


def journal(gateway: MockGateway) -> CallList:
    return handle_on(gateway).calls


@pytest.mark.parametrize("city", ["Paris", "Oslo"])
def test_agent_runs_both_tools_then_answers(gateway: MockGateway, city: str) -> None:
    calls: list[tuple[str, Any]] = []
    result = make_agent(gateway, calls).run_sync(f"Plan a trip to {city} please")
    assert result.output == f"Pack for {city}: rain for 3 days in {city}."
    assert sorted(calls) == [("get_forecast", (city, 3)), ("get_weather", city)]  # run in parallel, any order
    recorded = journal(gateway)
    assert [c.fixture for c in recorded] == ["plan-trip-check-weather", "plan-trip-answer"]
    second = recorded[1].body["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "tool", "tool"]
    assert {m["content"] for m in second[3:]} == {f"weather: {WEATHER[city]}", f"forecast: rain for 3 days in {city}"}


def test_streamed_agent_run(gateway: MockGateway) -> None:
    calls: list[tuple[str, Any]] = []
    agent = make_agent(gateway, calls)
    result = agent.run_stream_sync("Plan a trip to Paris please")
    text = result.get_output()
    assert text == "Pack for Paris: rain for 3 days in Paris."
    assert [c.body.get("stream") for c in journal(gateway)] == [True, True]
    assert sorted(name for name, _ in calls) == ["get_forecast", "get_weather"]
