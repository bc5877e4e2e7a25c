"""The request → answer rules as one table, checked on the pure pipeline: no socket, no event loop.

Each row builds a fresh GatewayState (Settings + parsed fixtures), sends one RawRequest to the handler the server
routes its path to (server/app.py), and checks the Outcome: status, error code and param, the fixture chosen,
the answer's headers and key fields of its body. The socket-level tests (tests/server/) prove the same rules with
real clients; this table is where a rule is cheap to read and to add.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
import yaml
from multidict import CIMultiDict

from mockgw.dialects.responses import RESPONSES
from mockgw.fixtures.load import parse_document
from mockgw.gateway import pipeline
from mockgw.gateway.config import Settings, settings_from
from mockgw.gateway.outcome import Outcome, RawRequest
from mockgw.gateway.state import GatewayState
from mockgw.gateway.validation import Validators

VALIDATORS = Validators.load()  # compiled once for every row

FIXTURES = parse_document(
    yaml.safe_load(
        """
version: 1
fixtures:
  - name: hello-low
    match: {last_user_message: hello}
    reply: {content: "Low priority."}
  - name: hello-high
    priority: 5
    match: {last_user_message: hello}
    reply: {content: "High priority."}
  - name: weather
    match:
      last_user_message: {regex: "weather in (?P<city>\\\\w+)"}
    reply: {content: "Sunny in {{ city }}."}
  - name: tagged
    match: {tags: [flaky]}
    reply: {content: "Tagged."}
  - name: haiku-only  # a glob on the model as the client sent it (bare or author/model)
    match: {model: "*claude-haiku-4-5"}
    reply: {content: "Haiku."}
  - name: weather-tool
    match: {tools: [get_weather]}
    reply:
      tool_calls:
        - name: get_weather
          arguments: {city: Paris}
"""
    ),
    "table.yaml",
)

SETTINGS: dict[str, Settings] = {
    "open": Settings(),
    "keyed": settings_from(
        {
            "keys": [
                {"key": "sk-active", "models": ["openai/*", "acme/*"]},
                {"key": "sk-inactive", "state": "inactive"},
                {"key": "sk-expired", "state": "expired"},
            ],
            "models": [
                {"id": "openai/gpt-4o", "providers": ["openai", "azure"]},
                {"id": "acme/shared"},
                {"id": "other/shared"},
                {"id": "acme/solo"},
            ],
        }
    ),
    "strict": settings_from({"strict": True}),
    "limited": settings_from({"rate_limit": {"requests_per_minute": 1}}),
}

ROUTES: dict[str, Callable[[GatewayState, RawRequest], Outcome]] = {
    "/v1/chat/completions": pipeline.handle_completion,
    "/v1/messages": pipeline.handle_messages,
    "/v1/responses": partial(pipeline.handle_completion, dialect=RESPONSES),
    "/v1/count_tokens": pipeline.handle_count_tokens,
    "/v1/messages/count_tokens": pipeline.handle_message_tokens,
    "/v1/compress": pipeline.handle_compress,
}

BEARER = {"Authorization": "Bearer sk-test"}
MODEL = "openai/gpt-4o"


def basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def chat(text: str = "hello", **fields: Any) -> dict[str, Any]:
    """A chat body: one user message, `fields` set over it."""
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **fields}


TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}


ANY = "<any fixture>"


@dataclass(frozen=True)
class Row:
    """One request and what the gateway answers to it."""

    id: str
    body: Any
    status: int
    code: str | None = None
    param: str | None = None
    fixture: str | None = ANY  # the fixture that answers (None: a generated answer)
    fields: Mapping[str, Any] = field(default_factory=dict)  # dotted path in the answer's JSON -> value
    headers: Mapping[str, str] = field(default_factory=lambda: dict(BEARER))
    path: str = "/v1/chat/completions"
    settings: str = "open"
    before: int = 0  # the same request sent this many times first (rate limits)
    answer_headers: Mapping[str, str] = field(default_factory=dict)
    message: str | None = None  # a fragment of the error message


ROWS: list[Row] = [
    # Credentials (auth.py): which header carries the key, and the key table's verdict.
    Row("auth-bearer", chat(), 200, fixture="hello-high"),
    Row("auth-missing", chat(), 401, "unauthorized", headers={}, message="Missing Authorization header"),
    Row("auth-empty-x-api-key", chat(), 401, "unauthorized", headers={"x-api-key": ""}),
    Row("auth-unknown-scheme", chat(), 401, "unauthorized", headers={"Authorization": "Token sk"}),
    Row("auth-bearer-blank", chat(), 401, "unauthorized", headers={"Authorization": "Bearer   "}),
    Row("auth-basic-key-as-user", chat(), 200, headers={"Authorization": basic("sk-test")}),
    Row("auth-basic-with-password", chat(), 401, "unauthorized", headers={"Authorization": basic("sk", "pw")}),
    Row("auth-basic-not-base64", chat(), 401, "unauthorized", headers={"Authorization": "Basic !!!"}),
    Row("auth-x-api-key", chat(), 200, headers={"x-api-key": "sk-test"}),
    Row("auth-x-edgee-api-key-wins", chat(), 200, headers={"x-edgee-api-key": "sk", "Authorization": "Token no"}),
    Row("keys-active", chat(), 200, headers={"Authorization": "Bearer sk-active"}, settings="keyed"),
    Row(
        "keys-edgee-header-wins-over-expired",
        chat(),
        200,
        headers={"x-edgee-api-key": "sk-active", "Authorization": "Bearer sk-expired"},
        settings="keyed",
    ),
    Row(
        "keys-inactive",
        chat(),
        403,
        "forbidden",
        headers={"Authorization": "Bearer sk-inactive"},
        settings="keyed",
        message="API key is inactive",
    ),
    Row(
        "keys-expired-x-api-key",
        chat(),
        403,
        "forbidden",
        headers={"x-api-key": "sk-expired"},
        settings="keyed",
        message="API key has expired",
    ),
    Row(
        "keys-unknown",
        chat(),
        401,
        "unauthorized",
        headers={"Authorization": "Bearer sk-nope"},
        settings="keyed",
        message="API key not found",
    ),
    Row(
        "keys-model-outside-globs",
        chat(model="other/shared"),
        403,
        "forbidden",
        headers={"Authorization": "Bearer sk-active"},
        settings="keyed",
        message="Model 'other/shared' is not allowed for this API key",
    ),
    # The body: JSON first, then the schema (param names the field at fault).
    Row("json-empty", b"", 400, "invalid_json", message="the body is empty"),
    Row("json-truncated", b'{"model": "openai/gpt-4o",', 400, "invalid_json"),
    Row("json-array", b"[]", 400, "invalid_json", message="got an array"),
    Row("json-nan", b'{"model": "openai/gpt-4o", "temperature": NaN}', 400, "invalid_json", message="NaN"),
    Row("schema-missing-model", {"messages": [{"role": "user", "content": "hi"}]}, 400, "invalid_request", "model"),
    Row("schema-messages-empty", chat(messages=[]), 400, "invalid_request", "messages"),
    Row(
        "schema-bad-role",
        chat(messages=[{"role": "robot", "content": "hi"}]),
        400,
        "invalid_request",
        "messages[0].role",
    ),
    Row(
        "schema-tool-without-id",
        chat(messages=[{"role": "tool", "content": "18C"}]),
        400,
        "invalid_request",
        "messages[0].tool_call_id",
    ),
    # Model ids (catalog.py).
    Row("model-bad-id", chat(model="invalid-model"), 400, "bad_model_id", "model", message="'invalid-model'"),
    Row("model-two-slashes", chat(model="openai/gpt-4o/x"), 400, "bad_model_id", "model"),
    Row("model-not-found", chat(model="openai/gpt-1"), 400, "model_not_found", "model"),
    Row(
        "model-provider-not-supported",
        chat(model="openai/gpt-5.2:anthropic"),
        400,
        "provider_not_supported",
        "model",
    ),
    Row(
        "model-provider-pin",
        chat(model="openai/gpt-5.2:azure"),
        200,
        fields={"model": "openai/gpt-5.2:azure"},
        answer_headers={"X-Edgee-Provider": "azure"},
    ),
    Row(
        "model-bare-id-resolves",
        chat("hi", model="claude-haiku-4-5"),
        200,
        fixture="haiku-only",
        fields={"model": "claude-haiku-4-5", "choices.0.message.content": "Haiku."},
        answer_headers={"X-Edgee-Provider": "anthropic"},
    ),
    Row(
        "select-model-glob-full-id",
        chat("hi", model="anthropic/claude-haiku-4-5"),
        200,
        fixture="haiku-only",
        fields={"model": "anthropic/claude-haiku-4-5"},
    ),
    Row(
        "model-bare-id-two-authors",
        chat(model="shared"),
        400,
        "bad_model_id",
        "model",
        headers={"Authorization": "Bearer sk-active"},
        settings="keyed",
    ),
    # Conversation rules (conversation_rules.py): what providers refuse after the schema passed.
    Row(
        "rule-unanswered-tool-call",
        chat(
            messages=[
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None, "tool_calls": [CALL]},
                {"role": "user", "content": "well?"},
            ],
            tools=[TOOL],
        ),
        400,
        "invalid_request",
        "messages[1].tool_calls[0].id",
        message="call_1",
    ),
    Row(
        "rule-unknown-tool-call-id",
        chat(
            messages=[
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None, "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "call_9", "content": "18C"},
            ],
            tools=[TOOL],
        ),
        400,
        "invalid_request",
        "messages[2].tool_call_id",
    ),
    # Fixture selection (matching.py): priority first, then load order; match keys; templates.
    Row(
        "select-priority-wins",
        chat(),
        200,
        fixture="hello-high",
        fields={"choices.0.message.content": "High priority."},
    ),
    Row(
        "select-regex-capture-template",
        chat("what is the weather in Lyon"),
        200,
        fixture="weather",
        fields={"choices.0.message.content": "Sunny in Lyon."},
    ),
    Row("select-tags", chat("anything", tags=["flaky"]), 200, fixture="tagged"),
    Row(
        "select-tools-tool-call",
        chat("go", tools=[TOOL]),
        200,
        fixture="weather-tool",
        fields={"choices.0.finish_reason": "tool_calls", "choices.0.message.tool_calls.0.function.name": "get_weather"},
    ),
    Row("select-none-generates", chat("nothing matches this"), 200, fixture=None, fields={"object": "chat.completion"}),
    Row(
        "strict-miss",
        chat("nothing matches this"),
        404,
        "no_matching_fixture",
        settings="strict",
        message="hello-low",  # the near-miss report names the fixtures that almost matched
    ),
    Row("strict-hit", chat(), 200, fixture="hello-high", settings="strict"),
    # Rate limits (ratelimit.py): the second request in the minute is refused with Retry-After.
    Row("ratelimit-first", chat(), 200, settings="limited"),
    Row(
        "ratelimit-second",
        chat(),
        429,
        "usage_limit_exceeded",
        settings="limited",
        before=1,
        answer_headers={"Retry-After": "60"},
    ),
    # The three dialects answer from the same fixture.
    Row(
        "dialect-chat",
        chat(),
        200,
        fixture="hello-high",
        fields={"object": "chat.completion", "choices.0.message.content": "High priority."},
    ),
    Row(
        "dialect-messages",
        {"model": MODEL, "max_tokens": 50, "messages": [{"role": "user", "content": "hello"}]},
        200,
        fixture="hello-high",
        path="/v1/messages",
        headers={"x-api-key": "sk-test", "Authorization": "Token ignored-when-x-api-key-is-sent"},
        fields={"type": "message", "role": "assistant", "content.0.text": "High priority."},
    ),
    Row(
        "dialect-responses",
        {"model": MODEL, "input": "hello"},
        200,
        fixture="hello-high",
        path="/v1/responses",
        fields={"object": "response", "output.0.content.0.text": "High priority."},
    ),
    # Endpoints that call no model.
    Row(
        "count-tokens",
        {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]},
        200,
        path="/v1/count_tokens",
    ),
    Row(
        "count-tokens-bad-tokenizer",
        {"model": MODEL, "tokenizer": "p50k_base"},
        400,
        "invalid_tokenizer",
        "tokenizer",
        path="/v1/count_tokens",
    ),
    Row(
        "count-tokens-no-key",
        {"model": MODEL, "messages": []},
        401,
        "unauthorized",
        path="/v1/count_tokens",
        headers={},
    ),
    Row(
        "messages-count-tokens-x-api-key",
        {"model": "claude-sonnet-4.5", "messages": [{"role": "user", "content": "hi"}]},
        200,
        path="/v1/messages/count_tokens",
        headers={"x-api-key": "sk-test"},
    ),
    Row(
        "compress-short-untouched",
        {"model": MODEL, "compression_model": "agentic", "messages": [{"role": "user", "content": "hello"}]},
        200,
        path="/v1/compress",
        fields={"compression.technique": "tool", "compression.applied_strategies": [], "messages.0.content": "hello"},
    ),
]


def dig(value: Any, dotted: str) -> Any:
    """`value["a"][0]["b"]` for `a.0.b`."""
    for part in dotted.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def send(state: GatewayState, row: Row) -> Outcome:
    body = row.body if isinstance(row.body, bytes) else json.dumps(row.body).encode()
    raw = RawRequest.received("POST", row.path, CIMultiDict(row.headers), body)
    return ROUTES[row.path](state, raw)


def test_the_table_is_wide_enough() -> None:
    assert len(ROWS) >= 30
    assert len({row.id for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_pipeline(row: Row) -> None:
    state = GatewayState(SETTINGS[row.settings], FIXTURES, VALIDATORS)
    for _ in range(row.before):
        assert send(state, row).status == 200
    outcome = send(state, row)
    answer = json.loads(outcome.body) if outcome.body else None
    assert outcome.status == row.status, outcome.body
    if row.code is None:
        assert outcome.error is None
        if row.fixture != ANY:
            assert outcome.fixture == row.fixture
    else:
        assert answer is not None
        error = answer["error"]
        assert (error["code"], error["param"]) == (row.code, row.param)
        assert set(error) >= {"code", "message", "type", "param"}
        if row.message is not None:
            assert row.message in error["message"]
    for name, value in row.answer_headers.items():
        assert outcome.headers[name] == value
    for dotted, value in row.fields.items():
        assert dig(answer, dotted) == value, dotted
    assert state.problems == []
