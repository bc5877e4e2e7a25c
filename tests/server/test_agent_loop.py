"""Agent loops driven by the openai SDK over a socket, scripted in tests/data/agent_loop.yaml."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY, handle_on

AGENT_LOOP = Path(__file__).parent.parent / "data" / "agent_loop.yaml"


def tool(name: str, **properties: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {k: {"type": v} for k, v in properties.items()}}
    return {"type": "function", "function": {"name": name, "parameters": schema}}


WEATHER_TOOLS: list[Any] = [tool("get_weather", city="string", unit="string")]
ORDER_TOOLS: list[Any] = [
    tool("lookup_order", order_id="string"),
    tool("cancel_order", order_id="string", reason="string"),
]


@pytest.fixture
def agent_gateway(gateway_factory: Callable[..., MockGateway]) -> MockGateway:
    return gateway_factory(fixtures=(str(AGENT_LOOP),), strict=True)


@pytest.fixture
def client(agent_gateway: MockGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=agent_gateway.base_url, api_key=API_KEY, max_retries=0)


def run_weather_tool(arguments: str) -> str:
    """The agent's tool: what a real implementation would compute from the model's arguments."""
    parsed = json.loads(arguments)
    return {"Paris": "18C and sunny", "Oslo": "-3C and snowing"}[parsed["city"]]


def run_agent(client: openai.OpenAI, question: str, tools: list[Any], run_tool: Any) -> list[Any]:
    """A minimal agent loop: call the model, run every tool call it asks for, until it answers in text."""
    messages: list[Any] = [{"role": "user", "content": question}]
    for _ in range(5):
        completion = client.chat.completions.create(model="openai/gpt-4o", messages=messages, tools=tools)
        message = completion.choices[0].message
        messages.append(message.model_dump(exclude_none=True))
        if not message.tool_calls:
            return messages
        for call in message.tool_calls:
            result = run_tool(call.function.name, call.function.arguments)  # type: ignore[union-attr]
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    raise AssertionError(f"the agent did not finish: {messages}")


@pytest.mark.parametrize(("city", "weather"), [("Paris", "18C and sunny"), ("Oslo", "-3C and snowing")])
def test_tool_call_then_final_answer(client: openai.OpenAI, city: str, weather: str) -> None:
    messages = run_agent(
        client, f"What is the weather in {city}?", WEATHER_TOOLS, lambda _name, args: run_weather_tool(args)
    )
    call = messages[1]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": city, "unit": "celsius"}
    assert messages[-1]["content"] == f"In {city} it is {weather}."
    assert len(messages) == 4


def stream_completion(client: openai.OpenAI, **request: Any) -> Any:
    """The SDK's own stream helper reassembles content and tool-call deltas into a completion."""
    streams = getattr(client.chat.completions, "stream", None) or client.beta.chat.completions.stream
    with streams(**request) as stream:
        return stream.get_final_completion()


def test_streamed_agent_loop_reassembles_tool_call_deltas(client: openai.OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = stream_completion(client, model="openai/gpt-4o", messages=messages, tools=WEATHER_TOOLS)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == (
        "get_weather",
        {"city": "Paris", "unit": "celsius"},
    )
    messages.append(choice.message.model_dump(exclude_none=True, exclude={"parsed"}))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": run_weather_tool(call.function.arguments)})
    final = stream_completion(client, model="openai/gpt-4o", messages=messages, tools=WEATHER_TOOLS)
    assert final.choices[0].message.content == "In Paris it is 18C and sunny."
    assert final.choices[0].finish_reason == "stop"


def order_tools(status: str) -> Any:
    def run(name: str, arguments: str) -> str:
        order = json.loads(arguments)["order_id"]
        return f"order {order} is {status}" if name == "lookup_order" else f"order {order} cancelled"

    return run


def test_branching_scenario_follows_the_tool_results(client: openai.OpenAI, agent_gateway: MockGateway) -> None:
    pending = run_agent(client, "Please refund order 1234", ORDER_TOOLS, order_tools("pending"))
    calls = [m["tool_calls"][0]["function"] for m in pending if m.get("tool_calls")]
    assert [c["name"] for c in calls] == ["lookup_order", "cancel_order"]
    assert json.loads(calls[1]["arguments"]) == {
        "order_id": "1234",
        "reason": "customer asked: Please refund order 1234",
    }
    assert pending[-1]["content"] == "Done: order 1234 cancelled"
    (refund,) = handle_on(agent_gateway).control("GET", "/scenarios")["scenarios"]
    assert (refund["name"], refund["state"]) == ("refund", "done")

    handle_on(agent_gateway).reset()
    assert handle_on(agent_gateway).control("GET", "/scenarios")["scenarios"][0]["state"] == "started"
    shipped = run_agent(client, "Please refund order 77", ORDER_TOOLS, order_tools("shipped"))
    assert [m["tool_calls"][0]["function"]["name"] for m in shipped if m.get("tool_calls")] == ["lookup_order"]
    assert shipped[-1]["content"] == "Order already shipped: I opened a return instead."


def test_scenarios_endpoint_shows_states_and_ready_fixtures(agent_gateway: MockGateway, client: openai.OpenAI) -> None:
    (refund,) = handle_on(agent_gateway).control("GET", "/scenarios")["scenarios"]
    assert refund == {
        "name": "refund",
        "state": "started",
        "states": ["started", "looked-up", "done", "cancelling"],
        "fixtures": ["refund-look-up-order", "refund-already-shipped", "refund-cancel-pending", "refund-cancelled"],
        "ready": ["refund-look-up-order"],
    }
    handle_on(agent_gateway).control("PUT", "/scenarios/refund", {"state": "looked-up"})
    assert handle_on(agent_gateway).control("GET", "/scenarios")["scenarios"][0]["ready"] == [
        "refund-already-shipped",
        "refund-cancel-pending",
    ]


def test_a_step_out_of_order_is_a_404_naming_the_closest_fixture(
    client: openai.OpenAI, agent_gateway: MockGateway
) -> None:
    # The scenario is done, so the look-up step cannot run again until a reset.
    handle_on(agent_gateway).control("PUT", "/scenarios/refund", {"state": "done"})
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "refund order 5"}], tools=ORDER_TOOLS
        )
    body = raised.value.body
    assert isinstance(body, dict)
    assert body["code"] == "no_matching_fixture"
    assert body["message"] == (
        f"No fixture matches this request. Closest: 'refund-look-up-order' ({AGENT_LOOP}), 1 key failed: "
        "when_state: expected scenario 'refund' in state 'started', got 'done'. "
        "Next: 'ask-for-weather' (2 failed), 'refund-already-shipped' (2 failed)."
    )
    (unmatched,) = handle_on(agent_gateway).control("GET", "/near-misses")["unmatched"]
    assert unmatched["status"] == 404
    assert unmatched["near_misses"][0] == {
        "fixture": "refund-look-up-order",
        "source": str(AGENT_LOOP),
        "mismatches": [{"key": "when_state", "expected": "scenario 'refund' in state 'started'", "actual": "'done'"}],
    }


def test_a_broken_loop_is_refused_like_the_provider_would(client: openai.OpenAI) -> None:
    messages = [
        {"role": "user", "content": "What is the weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_2", "content": "18C"},
    ]
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="openai/gpt-4o", messages=messages, tools=WEATHER_TOOLS)  # type: ignore[arg-type]
    body = raised.value.body
    assert isinstance(body, dict)
    assert (body["code"], body["type"], body["param"]) == (
        "invalid_request",
        "invalid_request_error",
        "messages[2].tool_call_id",
    )
    assert "messages[2].tool_call_id is 'call_2'; the tool calls so far are: 'call_1'" in body["message"]


def test_rules_can_be_turned_off(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(conversation_rules=())
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
    completion = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "nope", "content": "x"}],
    )
    assert completion.choices[0].message.content


SEQUENCES = {
    "version": 1,
    "fixtures": [
        {
            "name": "flaky-then-ok",
            "match": {"user": "flaky"},
            "replies": [
                {"error": {"status": 503}},
                {"error": {"status": 429, "retry_after": 0.01}},  # 0 would leave the SDK to its own ~1 s backoff
                {"content": "third time lucky"},
            ],
        },
        {"name": "only-once", "times": 2, "match": {"user": "once"}, "reply": {"content": "first answer"}},
        {"name": "afterwards", "match": {"user": "once"}, "reply": {"content": "later answer"}},
        {
            "name": "call-then-answer",
            "match": {"user": "script"},
            "replies": [
                {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Rome"}}]},
                {"content": "Rome: warm"},
            ],
        },
    ],
}


@pytest.fixture
def sequences(gateway_factory: Callable[..., MockGateway]) -> MockGateway:
    gateway = gateway_factory(strict=True)
    handle_on(gateway).add(SEQUENCES)
    return gateway


def ask(gateway: MockGateway, text: str, max_retries: int = 0) -> Any:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=max_retries)
    return client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": text}])


def test_fail_then_succeed_with_the_sdk_retrying(sequences: MockGateway) -> None:
    assert ask(sequences, "flaky", max_retries=2).choices[0].message.content == "third time lucky"
    statuses = [c.status for c in handle_on(sequences).calls]
    assert statuses == [503, 429, 200]
    assert ask(sequences, "flaky").choices[0].message.content == "third time lucky"  # the last reply repeats


def test_times_then_the_next_fixture_and_reset_starts_over(sequences: MockGateway) -> None:
    answers = [ask(sequences, "once").choices[0].message.content for _ in range(3)]
    assert answers == ["first answer", "first answer", "later answer"]
    handle_on(sequences).reset()
    # reset also drops run-time fixtures: load them again and the counters start from zero
    handle_on(sequences).add(SEQUENCES)
    assert ask(sequences, "once").choices[0].message.content == "first answer"


def test_replies_script_a_tool_call_then_an_answer(sequences: MockGateway) -> None:
    first = ask(sequences, "script").choices[0]
    assert (first.finish_reason, first.message.tool_calls[0].function.arguments) == ("tool_calls", '{"city": "Rome"}')
    assert ask(sequences, "script").choices[0].message.content == "Rome: warm"
