"""A table of requests for the gateway's own features: each row's status, fields and headers, schema-checked.

Every answer is checked against the official schemas (`schemas/`): JSON bodies whole, streams chunk by chunk
(the features of a stream are read where docs/edgee-features.md says they go).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from mockgw.gateway.auth import ApiKey
from mockgw.gateway.config import parse_clock
from mockgw.gateway.validation import check_response
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY
from tests.server.test_edgee_features import AGENT_MESSAGES, EDGE_FIXTURES

LIMITED_KEY = "sk-limited-edge-key"
MORE_FIXTURES = """
version: 1
fixtures:
  - name: fallback-fixture
    match: {last_user_message: "fallback please"}
    priority: 5
    reply: {content: "answered elsewhere", fallback: {provider: azure, model: openai/gpt-4o-mini}}
  - name: pinned-compression
    match: {last_user_message: "pinned please"}
    priority: 5
    reply: {content: "small", compression: {saved_tokens: 450, reduction: 48.5}}
"""


def chat(**fields: Any) -> dict[str, Any]:
    return {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hello"}], **fields}


def say(text: str, **fields: Any) -> dict[str, Any]:
    return chat(messages=[{"role": "user", "content": text}], **fields)


MESSAGES_BODY = {"model": "claude-sonnet-4.5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
RESPONSES_BODY = {"model": "openai/gpt-4o", "input": "hello"}
EXECUTED_TIME = [{"name": "edgee_current_time", "success": True}]
CHAT = "/v1/chat/completions"
WEATHER = {"type": "function", "function": {"name": "get_weather"}}

# name, path, body, headers, status, fields expected (dotted path -> value, or ... for "present"), fields absent,
# headers expected (None: absent)
ROWS: list[tuple[str, str, dict[str, Any], dict[str, str], int, dict[str, Any], tuple[str, ...], dict[str, Any]]] = [
    ("edge-one-id", CHAT, chat(edgee_tool_ids=["edgee_current_time"]), {}, 200,
     {"edgee_tools_executed": EXECUTED_TIME}, ("edgee_pending_id", "compression", "debug"),
     {"x-edgee-provider": "openai", "x-edgee-fallback-used": None}),
    ("edge-two-ids", CHAT, chat(edgee_tool_ids=["edgee_current_time", "edgee_generate_uuid"]), {}, 200,
     {"edgee_tools_executed": [*EXECUTED_TIME, {"name": "edgee_generate_uuid", "success": True}]}, (), {}),
    ("edge-fixture-round", CHAT, say("What time is it?"), {}, 200,
     {"edgee_tools_executed": EXECUTED_TIME, "choices.0.message.content": ...}, (), {}),
    ("edge-scripted-failure", CHAT, say("What time? broken clock"), {}, 200,
     {"edgee_tools_executed": [{"name": "edgee_current_time", "success": False}]}, (), {}),
    ("edge-empty-list", CHAT, chat(edgee_tool_ids=[]), {}, 200, {}, ("edgee_tools_executed",), {}),
    ("edge-unknown-id", CHAT, chat(edgee_tool_ids=["not_a_tool"]), {}, 400,
     {"error.code": "invalid_edgee_tool_ids", "error.param": "edgee_tool_ids"}, (), {}),
    ("edge-one-bad-among-good", CHAT, chat(edgee_tool_ids=["edgee_current_time", "bogus"]), {}, 400,
     {"error.code": "invalid_edgee_tool_ids"}, (), {}),
    ("edge-inactive-for-key", CHAT, chat(edgee_tool_ids=["edgee_generate_uuid"]),
     {"authorization": f"Bearer {LIMITED_KEY}"}, 400, {"error.code": "invalid_edgee_tool_ids"}, (), {}),
    ("edge-ids-not-strings", CHAT, chat(edgee_tool_ids=[1]), {}, 400, {"error.code": "invalid_request"}, (), {}),
    ("edge-pending-unknown", CHAT, chat(edgee_pending_id="edgee_pending_x"), {}, 400,
     {"error.code": "invalid_request", "error.param": "edgee_pending_id"}, (), {}),
    ("edge-mixed-defers", CHAT, say("weather and time", tools=[WEATHER]), {}, 200,
     {"edgee_pending_id": ..., "edgee_tools_executed": EXECUTED_TIME, "choices.0.finish_reason": "tool_calls"},
     (), {}),
    ("edge-on-responses", "/v1/responses", {**RESPONSES_BODY, "edgee_tool_ids": ["edgee_generate_uuid"]}, {}, 200,
     {"edgee_tools_executed": [{"name": "edgee_generate_uuid", "success": True}]}, (), {}),
    ("edge-stream-final-chunk", CHAT, chat(stream=True, edgee_tool_ids=["edgee_current_time"]), {}, 200,
     {"edgee_tools_executed": EXECUTED_TIME}, (), {"content-type": "text/event-stream"}),
    ("compression-body-model", CHAT, chat(messages=AGENT_MESSAGES, compression_model="claude"), {}, 200,
     {"compression.saved_tokens": ..., "compression.cost_savings": ..., "compression.reduction": ...}, (), {}),
    ("compression-header-model", CHAT, chat(messages=AGENT_MESSAGES), {"x-edgee-compression-model": "opencode"}, 200,
     {"compression.time_ms": ...}, (), {}),
    ("compression-enabled-short-prompt", CHAT, chat(), {"x-edgee-enable-compression": "true"}, 200,
     {"compression.saved_tokens": 0, "compression.reduction": 0.0}, (), {}),
    ("compression-disabled-wins", CHAT, chat(compression_model="claude"), {"x-edgee-enable-compression": "false"},
     200, {}, ("compression",), {}),
    ("compression-strategy-header", CHAT, chat(messages=AGENT_MESSAGES),
     {"x-edgee-compression-tool-result-trimming": "true"}, 200, {"compression.saved_tokens": ...}, (), {}),
    ("compression-rate-above-one", CHAT, chat(), {"x-edgee-compression-rate": "1.5"}, 400,
     {"error.param": "x-edgee-compression-rate"}, (), {}),
    ("compression-rate-negative", CHAT, chat(), {"x-edgee-compression-rate": "-0.1"}, 400,
     {"error.code": "invalid_request"}, (), {}),
    ("compression-rate-not-a-number", CHAT, chat(), {"x-edgee-compression-rate": "half"}, 400,
     {"error.code": "invalid_request"}, (), {}),
    ("compression-enable-not-boolean", CHAT, chat(), {"x-edgee-enable-compression": "maybe"}, 400,
     {"error.param": "x-edgee-enable-compression"}, (), {}),
    ("compression-brevity-not-boolean", CHAT, chat(), {"x-edgee-compression-brevity": "very"}, 400,
     {"error.param": "x-edgee-compression-brevity"}, (), {}),
    ("compression-pinned-by-fixture", CHAT, say("pinned please"), {}, 200,
     {"compression.saved_tokens": 450, "compression.cost_savings": 27000, "compression.reduction": 48.5}, (), {}),
    ("compression-messages", "/v1/messages", MESSAGES_BODY, {"x-edgee-enable-compression": "true"}, 200,
     {"compression.saved_tokens": 0}, (), {"x-edgee-provider": "anthropic"}),
    ("compression-stream-with-usage", CHAT,
     chat(stream=True, stream_options={"include_usage": True}, compression_model="cursor"), {}, 200,
     {"compression.saved_tokens": 0, "usage.prompt_tokens": ...}, (), {}),
    ("compression-responses-stream", "/v1/responses", {**RESPONSES_BODY, "stream": True, "compression_model": "codex"},
     {}, 200, {"compression.saved_tokens": 0}, (), {}),
    ("fallback-fixture", CHAT, say("fallback please"), {}, 200, {"model": "openai/gpt-4o-mini"}, (),
     {"x-edgee-fallback-used": "1", "x-edgee-provider": "azure"}),
    ("fallback-outage-next-provider", CHAT, chat(model="google/gemini-2.5-pro"), {}, 200,
     {"model": "google/gemini-2.5-pro"}, (), {"x-edgee-fallback-used": "1", "x-edgee-provider": "vertex"}),
    ("fallback-outage-no-provider-left", CHAT, chat(model="mistral/devstral2"), {}, 502,
     {"error.code": "provider_error", "error.type": "provider_error"}, (), {"x-edgee-provider": None}),
    ("debug-header", CHAT, chat(), {"x-edgee-debug": "true"}, 200,
     {"debug.provider": "openai", "debug.fixture": None, "debug.route.fallback_used": False}, (), {}),
    ("debug-header-capitalised", CHAT, chat(), {"x-edgee-debug": "True"}, 200, {"debug.provider": "openai"}, (), {}),
    ("debug-header-not-boolean", CHAT, chat(), {"x-edgee-debug": "1"}, 400,
     {"error.code": "invalid_request", "error.param": "X-Edgee-Debug"}, (), {}),
    ("debug-header-empty", "/v1/responses", RESPONSES_BODY, {"x-edgee-debug": ""}, 400,
     {"error.param": "X-Edgee-Debug"}, (), {}),
    ("compression-header-model-unknown", CHAT, chat(), {"x-edgee-compression-model": "customer"}, 400,
     {"error.code": "invalid_request", "error.param": "X-Edgee-Compression-Model"}, (), {}),
    ("compression-header-model-on-messages", "/v1/messages", MESSAGES_BODY, {"x-edgee-compression-model": "~9"}, 400,
     {"error.param": "X-Edgee-Compression-Model"}, (), {}),
    ("debug-body-false", CHAT, chat(enable_debug=False), {}, 200, {}, ("debug",), {}),
    ("debug-stream", CHAT, chat(stream=True, enable_debug=True), {}, 200, {"debug.model": "openai/gpt-4o"}, (), {}),
    ("debug-messages-stream", "/v1/messages", {**MESSAGES_BODY, "stream": True}, {"x-edgee-debug": "true"}, 200,
     {"debug.provider": "anthropic"}, (), {}),
    ("session-id-on-messages", "/v1/messages", MESSAGES_BODY, {"x-edgee-session-id": "cli-session-1"}, 200, {}, (),
     {"x-edgee-provider": "anthropic"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def table_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockGateway]:
    folder: Path = tmp_path_factory.mktemp("edgee-table")
    (folder / "edge.yaml").write_text(EDGE_FIXTURES)
    (folder / "more.yaml").write_text(MORE_FIXTURES)
    from mockgw.gateway.config import Settings

    settings = Settings(
        port=0,
        fixtures=(str(folder),),
        clock=parse_clock("2026-01-01T00:00:00Z"),
        keys=(ApiKey(API_KEY), ApiKey(LIMITED_KEY, edgee_tool_ids=("edgee_current_time",))),
        outages=("google", "mistral"),
    )
    gateway = MockGateway(settings).start()
    yield gateway
    gateway.stop()


def _get(document: Any, dotted: str) -> Any:
    value = document
    for part in dotted.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def _has(document: Any, dotted: str) -> bool:
    try:
        _get(document, dotted)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _events(text: str) -> list[tuple[str | None, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        name = next((line[6:].strip() for line in block.split("\n") if line.startswith("event:")), None)
        data = next((line[5:].strip() for line in block.split("\n") if line.startswith("data:")), "")
        if data and data != "[DONE]":
            events.append((name, json.loads(data)))
    return events


def _stream_document(path: str, text: str) -> Any:
    """Where a stream carries the gateway's features, each event schema-checked on the way."""
    events = _events(text)
    if path == CHAT:
        assert all(check_response("chat_chunk", chunk) == [] for _, chunk in events)
        return events[-1][1]
    if path == "/v1/messages":
        return next(data for name, data in events if name == "message_delta")
    completed = next(data["response"] for name, data in events if name == "response.completed")
    assert check_response("responses_response", completed) == []
    return completed


SCHEMAS = {CHAT: "chat_response", "/v1/messages": "messages_response", "/v1/responses": "responses_response"}


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_edgee_feature_table(table_gateway: MockGateway, row: Any) -> None:
    name, path, body, headers, status, expected, absent, expected_headers = row
    sent = {"authorization": f"Bearer {API_KEY}", **headers}
    response = httpx.post(f"{table_gateway.url}{path}", json=body, headers=sent, timeout=10)
    assert response.status_code == status, response.text
    if status != 200:
        document = response.json()
        assert check_response("error", document) == []
    elif response.headers["content-type"].startswith("text/event-stream"):
        document = _stream_document(path, response.text)
    else:
        document = response.json()
        assert check_response(SCHEMAS[path], document) == []
    for dotted, value in expected.items():
        assert _has(document, dotted), f"{name}: {dotted} missing in {document}"
        if value is not ...:
            assert _get(document, dotted) == value, f"{name}: {dotted}"
    for dotted in absent:
        assert not _has(document, dotted), f"{name}: {dotted} should be absent"
    for header, value in expected_headers.items():
        if value is None:
            assert header not in response.headers
        else:
            assert response.headers[header].startswith(value)
    assert table_gateway.state.journal.calls()[-1].status == status  # every row, refused or not, is journaled


def test_the_table_is_big_enough() -> None:
    assert len(ROWS) >= 20 and len({row[0] for row in ROWS}) == len(ROWS)


def test_session_rows_filter_the_journal(table_gateway: MockGateway, gateway_factory: Callable[..., Any]) -> None:
    httpx.post(
        f"{table_gateway.url}/v1/messages",
        json=MESSAGES_BODY,
        headers={"x-api-key": API_KEY, "x-edgee-session-id": "cli-filter"},
    )
    found = httpx.get(f"{table_gateway.url}/__mockgw/calls?edgee_session_id=cli-filter").json()["calls"]
    assert [c["headers"]["x-edgee-session-id"] for c in found] == ["cli-filter"]
