"""The gateway's own features through the real clients: Edge Tools, compression, fallback, debug, sessions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx2 as httpx
import openai
import pytest
from edgee import Edgee, InputObject

from mockgw.gateway.config import parse_clock
from mockgw.gateway.validation import check_response
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY, handle_on
from tests.support.rawhttp import request
from tests.support.tool_fixtures import WEATHER_PARAMETERS

NEW_YEAR = "2026-01-01T00:00:00Z"
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {"name": "get_weather", "description": "Weather of a city.", "parameters": WEATHER_PARAMETERS},
}
ASK_TIME = [{"role": "user", "content": "What time is it?"}]

EDGE_FIXTURES = """
version: 1
fixtures:
  - name: time-call
    match: {last_user_message: "What time", turn: 0}
    reply:
      tool_calls: [{name: edgee_current_time, arguments: {}}]
  - name: time-answer
    match: {edgee_tools_executed: [edgee_current_time]}
    priority: 1
    reply:
      content: "The clock says {{ tool_result }}"
  - name: broken-clock
    match: {last_user_message: "broken clock", turn: 0}
    priority: 2
    reply:
      tool_calls: [{name: edgee_current_time, arguments: {}}]
      edgee_tools: {edgee_current_time: {result: "clock is down", success: false}}
  - name: mixed-calls
    match: {last_user_message: "weather and time", turn: 0}
    priority: 2
    reply:
      tool_calls:
        - {name: edgee_current_time, arguments: {}}
        - {name: get_weather, arguments: {city: Paris}}
  - name: mixed-answer
    match: {edgee_tools_executed: [edgee_current_time], tool_result: {name: get_weather}}
    priority: 3
    reply:
      content: "Weather {{ tool_result }} at the time asked."
"""


def client_for(gateway: MockGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)


@pytest.fixture
def edge_gateway(gateway_factory: Callable[..., MockGateway], tmp_path: Path) -> MockGateway:
    (tmp_path / "edge.yaml").write_text(EDGE_FIXTURES)
    return gateway_factory(fixtures=(str(tmp_path),), clock=parse_clock(NEW_YEAR))


# --- Edge Tools ----------------------------------------------------------------------------------------------------


def test_openai_sdk_reads_edge_tools_executed(edge_gateway: MockGateway) -> None:
    raw = client_for(edge_gateway).chat.completions.with_raw_response.create(
        model="openai/gpt-4o",
        messages=ASK_TIME,
        extra_body={"edgee_tool_ids": ["edgee_current_time"]},  # type: ignore[arg-type]
    )
    completion = raw.parse()
    assert completion.model_extra is not None
    assert completion.model_extra["edgee_tools_executed"] == [{"name": "edgee_current_time", "success": True}]
    assert completion.choices[0].message.content is not None
    assert "2026-01-01T00:00:00+00:00" in completion.choices[0].message.content
    assert completion.created == int(parse_clock(NEW_YEAR))
    assert check_response("chat_response", json.loads(raw.content)) == []


def test_a_fixture_scripts_an_edge_tool_failure(edge_gateway: MockGateway) -> None:
    completion = client_for(edge_gateway).chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "What time? broken clock"}]
    )
    assert completion.model_extra is not None
    assert completion.model_extra["edgee_tools_executed"] == [{"name": "edgee_current_time", "success": False}]
    assert completion.choices[0].message.content == "The clock says clock is down"


def test_two_step_edge_tool_and_client_tool_conversation(edge_gateway: MockGateway) -> None:
    client = client_for(edge_gateway)
    messages: list[Any] = [{"role": "user", "content": "weather and time please"}]
    first = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=messages,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        extra_body={"edgee_tool_ids": ["edgee_current_time"]},
    )
    calls = first.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather"]  # type: ignore[union-attr]
    assert first.choices[0].finish_reason == "tool_calls"
    assert first.model_extra is not None
    pending = first.model_extra["edgee_pending_id"]
    assert pending.startswith("edgee_pending_")
    assert first.model_extra["edgee_tools_executed"] == [{"name": "edgee_current_time", "success": True}]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": calls[0].id, "content": "22 C"},
    ]
    second = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=messages,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        extra_body={"edgee_pending_id": pending},
    )
    assert second.choices[0].message.content == "Weather 22 C at the time asked."
    assert second.model_extra is not None and "edgee_pending_id" not in second.model_extra
    calls_seen = handle_on(edge_gateway).calls
    assert calls_seen[-1].fixture == "mixed-answer"
    assert calls_seen[-1].response["edgee"]["edgee_pending_id"] == pending
    with pytest.raises(openai.BadRequestError) as reused:
        client.chat.completions.create(
            model="openai/gpt-4o", messages=messages, extra_body={"edgee_pending_id": pending}
        )
    assert reused.value.body["param"] == "edgee_pending_id"  # type: ignore[index]
    assert "already used" in reused.value.body["message"]  # type: ignore[index]


def test_unknown_pending_id_is_a_clear_400(edge_gateway: MockGateway) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client_for(edge_gateway).chat.completions.create(
            model="openai/gpt-4o", messages=ASK_TIME, extra_body={"edgee_pending_id": "edgee_pending_nope"}
        )
    assert "never issued" in refused.value.body["message"]  # type: ignore[index]
    assert handle_on(edge_gateway).control("GET", "/calls?status=400")["calls"][0]["body"]["edgee_pending_id"]


def test_invalid_and_inactive_edge_tool_ids(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(
        keys=(),
        edgee_tools=("edgee_current_time", "edgee_generate_uuid", "edgee_weather"),
    )
    from mockgw.gateway.auth import ApiKey

    limited = gateway_factory(keys=(ApiKey("sk-limited-key", edgee_tool_ids=("edgee_current_time",)),))
    with pytest.raises(openai.BadRequestError) as unknown:
        client_for(gateway).chat.completions.create(
            model="openai/gpt-4o", messages=ASK_TIME, extra_body={"edgee_tool_ids": ["not_a_tool", "edgee_weather"]}
        )
    assert unknown.value.body["code"] == "invalid_edgee_tool_ids"  # type: ignore[index]
    assert "'not_a_tool'" in unknown.value.body["message"]  # type: ignore[index]
    assert "'edgee_weather'" not in unknown.value.body["message"].split(".")[0]  # type: ignore[index]
    client = openai.OpenAI(base_url=limited.base_url, api_key="sk-limited-key", max_retries=0)
    with pytest.raises(openai.BadRequestError) as inactive:
        client.chat.completions.create(
            model="openai/gpt-4o", messages=ASK_TIME, extra_body={"edgee_tool_ids": ["edgee_generate_uuid"]}
        )
    assert "'edgee_generate_uuid'" in inactive.value.body["message"]  # type: ignore[index]
    ok = client.chat.completions.create(
        model="openai/gpt-4o", messages=ASK_TIME, extra_body={"edgee_tool_ids": ["edgee_current_time"]}
    )
    assert ok.model_extra is not None and ok.model_extra["edgee_tools_executed"][0]["name"] == "edgee_current_time"


def test_generated_answers_run_the_offered_tools_deterministically(
    gateway_factory: Callable[..., MockGateway],
) -> None:
    answers = []
    for _ in range(2):
        gateway = gateway_factory(seed=7)
        handle_on(gateway).control("PUT", "/clock", {"now": "2030-05-06T07:08:09Z"})
        body = {"model": "openai/gpt-4o", "messages": ASK_TIME, "edgee_tool_ids": ["edgee_generate_uuid"]}
        httpx.post(f"{gateway.url}/v1/chat/completions", json=body, headers={"authorization": f"Bearer {API_KEY}"})
        answers.append(gateway.state.journal.calls()[-1])
        assert handle_on(gateway).control("GET", "/clock") == {"now": "2030-05-06T07:08:09Z", "fixed": True}
    assert answers[0].response == answers[1].response
    assert answers[0].response["edgee"]["edgee_tools_executed"] == [{"name": "edgee_generate_uuid", "success": True}]


def test_clock_control_refuses_bad_times(gateway: MockGateway) -> None:

    answer = request(gateway.port, "PUT", "/__mockgw/clock", {"now": "next tuesday"}, key=None)
    assert answer.status == 400 and json.loads(answer.body)["error"]["param"] == "now"
    assert handle_on(gateway).control("PUT", "/clock", {"now": None})["fixed"] is False


def test_edge_tools_in_a_stream_come_in_the_final_chunk(edge_gateway: MockGateway) -> None:
    stream = client_for(edge_gateway).chat.completions.create(
        model="openai/gpt-4o", messages=ASK_TIME, stream=True, extra_body={"edgee_tool_ids": ["edgee_current_time"]}
    )
    chunks = list(stream)
    assert all(check_response("chat_chunk", c.model_dump(exclude_none=True)) == [] for c in chunks)
    finals = [c for c in chunks if c.model_extra and "edgee_tools_executed" in c.model_extra]
    assert finals == [chunks[-1]]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith("The clock says")


def test_edgee_sdk_gets_the_answer_after_a_hydrated_edge_tool(
    edge_gateway: MockGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEE_BASE_URL", edge_gateway.url)
    answer = Edgee(API_KEY).send(model="openai/gpt-4o", input="What time is it?")
    assert answer.text == "The clock says " + json.dumps(
        {"datetime": "2026-01-01T00:00:00+00:00", "timezone": "UTC", "unix": int(parse_clock(NEW_YEAR))},
        separators=(",", ":"),
    )


# --- compression ---------------------------------------------------------------------------------------------------

LONG_RESULT = " ".join(f"line {i}: temperature reading {i * 3} degrees, humidity {i % 40} percent" for i in range(80))
AGENT_MESSAGES: list[dict[str, Any]] = [
    {"role": "user", "content": "Summarise the sensor log."},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "read_log", "arguments": "{}"}}],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": LONG_RESULT},
]


def test_compression_header_on_chat_agrees_with_v1_compress(gateway: MockGateway) -> None:
    headers = {"X-Edgee-Compression-Model": "claude"}
    raw = client_for(gateway).chat.completions.with_raw_response.create(
        model="openai/gpt-4o",
        messages=AGENT_MESSAGES,
        extra_headers=headers,  # type: ignore[arg-type]
    )
    completion = raw.parse()
    assert completion.model_extra is not None and completion.usage is not None
    info = completion.model_extra["compression"]
    compressed = httpx.post(
        f"{gateway.url}/v1/compress",
        json={"model": "openai/gpt-4o", "messages": AGENT_MESSAGES},
        headers={"authorization": f"Bearer {API_KEY}", **headers},
    ).json()["compression"]
    assert info["saved_tokens"] > 0
    assert completion.usage.prompt_tokens == compressed["compressed_input_tokens"]
    assert info["saved_tokens"] == compressed["uncompressed_input_tokens"] - compressed["compressed_input_tokens"]
    assert info["cost_savings"] == info["saved_tokens"] * 60
    assert check_response("chat_response", json.loads(raw.content)) == []


def test_edgee_sdk_reads_compression(gateway: MockGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEE_BASE_URL", gateway.url)
    answer = Edgee(API_KEY).send(
        model="openai/gpt-4o", input=InputObject(messages=AGENT_MESSAGES, tool_result_trimming=True)
    )
    assert answer.compression is not None and answer.compression.saved_tokens > 0
    assert answer.usage is not None
    journal = gateway.state.journal.calls()[-1]
    assert journal.headers["x-edgee-compression-tool-result-trimming"] == "true"
    assert journal.response["edgee"]["compression"]["saved_tokens"] == answer.compression.saved_tokens


def test_compression_rate_steers_and_is_validated(gateway: MockGateway) -> None:
    client = client_for(gateway)
    saved = []
    for rate in ("0.2", "0.9"):
        completion = client.chat.completions.create(
            model="openai/gpt-4o",
            messages=AGENT_MESSAGES,  # type: ignore[arg-type]
            extra_headers={"x-edgee-enable-compression": "true", "x-edgee-compression-rate": rate},
        )
        assert completion.model_extra is not None
        saved.append(completion.model_extra["compression"]["saved_tokens"])
    assert 0 < saved[0] < saved[1]
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="openai/gpt-4o", messages=ASK_TIME, extra_headers={"x-edgee-compression-rate": "1.5"}
        )
    assert refused.value.body["param"] == "x-edgee-compression-rate"  # type: ignore[index]
    assert gateway.state.journal.calls()[-1].status == 400


def test_compression_on_messages_and_responses(gateway: MockGateway) -> None:
    claude = anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0)
    message = claude.messages.with_raw_response.create(
        model="claude-sonnet-4.5",
        max_tokens=100,
        messages=[
            {"role": "user", "content": "Summarise the log."},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "tu_1", "name": "read_log", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": LONG_RESULT}]},
        ],
        extra_headers={"X-Edgee-Enable-Compression": "true"},
    )
    body = json.loads(message.http_response.content)
    assert body["compression"]["saved_tokens"] > 0 and check_response("messages_response", body) == []
    response = client_for(gateway).responses.create(
        model="openai/gpt-4o",
        input=[
            {"role": "user", "content": "Summarise the log."},
            {"type": "function_call", "call_id": "c1", "name": "read_log", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": LONG_RESULT},
        ],
        extra_body={"compression_model": "codex"},
    )
    assert response.model_extra is not None and response.model_extra["compression"]["saved_tokens"] > 0
    assert response.usage is not None
    assert check_response("responses_response", response.model_dump(exclude_none=True)) == []


def test_fixture_pins_or_turns_off_compression(gateway: MockGateway) -> None:
    handle_on(gateway).add(
        {
            "version": 1,
            "fixtures": [
                {
                    "name": "pinned",
                    "match": {"last_user_message": "pin"},
                    "reply": {"content": "ok", "compression": {"saved_tokens": 450}},
                },
                {
                    "name": "off",
                    "match": {"last_user_message": "off"},
                    "reply": {"content": "ok", "compression": False},
                },
            ],
        },
    )
    client = client_for(gateway)
    pinned = client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "pin"}])
    plain = client.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "off"}], extra_body={"compression_model": "claude"}
    )
    assert pinned.model_extra is not None and pinned.model_extra["compression"]["saved_tokens"] == 450
    assert pinned.model_extra["compression"]["cost_savings"] == 27000
    assert plain.model_extra is not None and "compression" not in plain.model_extra


# --- fallback ------------------------------------------------------------------------------------------------------


def test_fixture_fallback_sets_the_headers(gateway: MockGateway) -> None:
    handle_on(gateway).add(
        {
            "name": "fb",
            "reply": {"content": "from azure", "fallback": {"provider": "azure", "model": "openai/gpt-4o-mini"}},
        },
    )
    raw = client_for(gateway).chat.completions.with_raw_response.create(model="openai/gpt-4o", messages=ASK_TIME)
    assert raw.headers["x-edgee-fallback-used"] == "1"
    assert raw.headers["x-edgee-provider"] == "azure"
    assert raw.parse().model == "openai/gpt-4o-mini"


def test_fault_rule_fallback_before_the_first_event(gateway: MockGateway) -> None:
    handle_on(gateway).fault(
        {"name": "claude-down", "match": {"model": "anthropic/*"}, "fault": {"type": "fallback"}, "nth": 1},
    )
    client = client_for(gateway)
    raw = client.chat.completions.with_raw_response.create(
        model="anthropic/claude-haiku-4-5", messages=ASK_TIME, stream=True
    )
    assert raw.headers["x-edgee-fallback-used"] == "1" and raw.headers["x-edgee-provider"] == "bedrock"
    assert [c.model for c in raw.parse()][-1] == "anthropic/claude-haiku-4-5"
    again = client.chat.completions.with_raw_response.create(model="anthropic/claude-haiku-4-5", messages=ASK_TIME)
    assert "x-edgee-fallback-used" not in again.headers  # nth: 1, the rule fired once
    call = handle_on(gateway).calls[-2]
    assert call.fault == "fallback" and call.response["edgee"]["route"]["reason"] == "rule 'claude-down'"


def test_outage_falls_back_to_the_next_provider_or_fails(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(outages=("openai", "mistral"))
    client = client_for(gateway)
    raw = client.chat.completions.with_raw_response.create(model="openai/gpt-4o", messages=ASK_TIME, stream=True)
    assert raw.headers["x-edgee-provider"] == "azure" and raw.headers["x-edgee-fallback-used"] == "1"
    assert list(raw.parse())[-1].model == "openai/gpt-4o"
    healthy = client.chat.completions.with_raw_response.create(model="anthropic/claude-haiku-4-5", messages=ASK_TIME)
    assert healthy.headers["x-edgee-provider"] == "anthropic" and "x-edgee-fallback-used" not in healthy.headers
    with pytest.raises(openai.APIStatusError) as failed:
        client.chat.completions.create(model="mistral/devstral2", messages=ASK_TIME)
    assert failed.value.status_code == 502
    assert failed.value.body["code"] == "provider_error"  # type: ignore[index]
    assert check_response("error", failed.value.response.json()) == []


# --- debug and sessions --------------------------------------------------------------------------------------------


def test_debug_header_and_field(edge_gateway: MockGateway) -> None:
    client = client_for(edge_gateway)
    plain = client.chat.completions.create(model="openai/gpt-4o", messages=ASK_TIME)
    assert plain.model_extra is not None and "debug" not in plain.model_extra
    by_header = client.chat.completions.create(
        model="openai/gpt-4o", messages=ASK_TIME, extra_headers={"X-Edgee-Debug": "true"}
    )
    assert by_header.model_extra is not None
    debug = by_header.model_extra["debug"]
    assert debug["fixture"] == "time-answer" and debug["provider"] == "openai" and debug["key"] == "…-key"
    assert debug["edgee_tools"]["executed"] == [{"name": "edgee_current_time", "success": True}]
    stream = client.chat.completions.create(
        model="openai/gpt-4o", messages=ASK_TIME, stream=True, extra_body={"enable_debug": True}
    )
    last = list(stream)[-1]
    assert last.model_extra is not None and last.model_extra["debug"]["route"]["fallback_used"] is False


def test_messages_session_id_filters_the_journal(gateway: MockGateway) -> None:
    for session in ("cli-1", "cli-2", "cli-1"):
        claude = anthropic.Anthropic(
            base_url=gateway.url, api_key=API_KEY, max_retries=0, default_headers={"x-edgee-session-id": session}
        )
        claude.messages.create(model="claude-sonnet-4.5", max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    found = handle_on(gateway).control("GET", "/calls?edgee_session_id=cli-1")["calls"]
    assert len(found) == 2 and {c["headers"]["x-edgee-session-id"] for c in found} == {"cli-1"}


def test_messages_stream_carries_features_in_message_delta(gateway: MockGateway) -> None:
    claude = anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0)
    with claude.messages.stream(
        model="claude-sonnet-4.5",
        max_tokens=50,
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"X-Edgee-Debug": "True", "X-Edgee-Enable-Compression": "true"},
    ) as stream:
        deltas = [e for e in stream if e.type == "message_delta"]
    assert deltas and deltas[0].model_extra is not None
    assert deltas[0].model_extra["compression"]["saved_tokens"] == 0
    assert deltas[0].model_extra["debug"]["provider"] == "anthropic"


def test_edge_tool_rounds_stop_after_four(gateway: MockGateway) -> None:
    handle_on(gateway).add(
        {
            "name": "uuid-forever",
            "match": {"last_user_message": "loop"},
            "reply": {"tool_calls": [{"name": "edgee_generate_uuid"}]},
        },
    )
    completion = client_for(gateway).chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "loop"}]
    )
    assert completion.model_extra is not None and len(completion.model_extra["edgee_tools_executed"]) == 4
    assert [c.function.name for c in completion.choices[0].message.tool_calls or []] == ["edgee_generate_uuid"]  # type: ignore[union-attr]
    warnings = gateway.state.journal.calls()[-1].response["warnings"]
    assert "4 rounds in a row" in warnings[0]


def test_a_fault_after_the_first_event_is_not_retried(
    gateway_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    (tmp_path / "cut.yaml").write_text(
        "version: 1\nfixtures:\n  - name: cut\n"
        "    reply: {content: 'one two three four five six', fault: {type: cut, after_events: 3}}\n"
    )
    gateway = gateway_factory(fixtures=(str(tmp_path),), outages=("openai",))
    raw = client_for(gateway).chat.completions.with_raw_response.create(
        model="openai/gpt-4o", messages=ASK_TIME, stream=True
    )
    assert raw.headers["x-edgee-fallback-used"] == "1" and raw.headers["x-edgee-provider"] == "azure"
    with pytest.raises(openai.APIError):
        list(raw.parse())  # the stream breaks; the gateway does not try another provider
    calls = gateway.state.journal.calls()
    assert len(calls) == 1 and calls[0].fault == "cut"


def test_edgee_sdk_streams_past_the_feature_fields(edge_gateway: MockGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEE_BASE_URL", edge_gateway.url)
    chunks = list(Edgee(API_KEY).stream(model="openai/gpt-4o", input="What time is it?"))
    assert "".join(c.text or "" for c in chunks).startswith("The clock says {")
    assert chunks[-1].finish_reason == "stop"


def test_a_pending_id_survives_a_refused_attempt(edge_gateway: MockGateway) -> None:
    client = client_for(edge_gateway)
    messages: list[Any] = [{"role": "user", "content": "weather and time please"}]
    first = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=messages,
        tools=[WEATHER_TOOL],
        extra_body={"edgee_tool_ids": []},  # type: ignore[list-item]
    )
    assert first.model_extra is not None
    call = (first.choices[0].message.tool_calls or [])[0]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18 C"},
    ]
    busy = {
        "name": "busy",
        "match": {"tool_result": {"name": "get_weather"}},
        "fault": {"type": "error", "status": 429},
    }
    handle_on(edge_gateway).fault({**busy, "nth": 1})
    resume = {"edgee_pending_id": first.model_extra["edgee_pending_id"]}
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="openai/gpt-4o", messages=messages, extra_body=resume)
    second = client.chat.completions.create(model="openai/gpt-4o", messages=messages, extra_body=resume)
    assert second.choices[0].message.content == "Weather 18 C at the time asked."
