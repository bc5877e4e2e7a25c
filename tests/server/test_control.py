"""The control endpoint under /__mockgw/ over a real socket: journal, filters, run-time fixtures, reset."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from mockgw.gateway.config import Settings
from mockgw.server.runner import MockGateway
from tests.support.rawhttp import CHAT, Answer, chat, journal, request

CALL_FIELDS = {
    "id",
    "time",
    "method",
    "path",
    "headers",
    "body",
    "tags",
    "fixture",
    "status",
    "duration_ms",
    "response",
}


@pytest.fixture(scope="module")
def module_gw() -> Iterator[MockGateway]:
    gateway = MockGateway(Settings(port=0, fixtures=("fixtures",))).start()
    yield gateway
    gateway.stop()


@pytest.fixture
def gw(module_gw: MockGateway) -> MockGateway:
    """The module's gateway, reset through the control endpoint before each test."""
    assert request(module_gw.port, "POST", "/__mockgw/reset", key=None).json() == {"reset": True, "released": 0}
    return module_gw


def ask(gateway: MockGateway, text: str, **fields: Any) -> Answer:
    headers = fields.pop("headers", None)
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": text}], **fields}
    return chat(gateway.port, body, headers)


def test_health(gw: MockGateway) -> None:
    answer = request(gw.port, "GET", "/__mockgw/health", key=None)
    assert answer.status == 200
    assert answer.json() == {"status": "ok", "version": "0.1.0", "fixtures": 3}


def test_journal_records_every_field(gw: MockGateway) -> None:
    ask(gw, "hello", tags=["production"], headers={"X-Edgee-Tags": "chatbot, beta", "x-api-key": "sk-secret"})
    request(gw.port, "GET", "/v1/models", key="sk-secret")
    ask(gw, "hello", stream=True)
    chat(gw.port, b"{oops")
    request(gw.port, "GET", "/v1/nope")
    request(gw.port, "GET", "/__mockgw/health", key=None)  # the control endpoint's own calls are not journaled
    request(gw.port, "GET", "/__mockgw/fixtures", key=None)

    calls = journal(gw.port)
    assert [(c["method"], c["path"], c["status"]) for c in calls] == [
        ("POST", CHAT, 200),
        ("GET", "/v1/models", 200),
        ("POST", CHAT, 200),
        ("POST", CHAT, 400),
        ("GET", "/v1/nope", 404),
    ]
    first = calls[0]
    assert set(first) >= CALL_FIELDS
    assert first["id"] != calls[1]["id"]
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert first["headers"]["authorization"] == "Bearer [redacted]"
    assert first["headers"]["x-api-key"] == "[redacted]"
    assert "sk-secret" not in str(calls)
    assert first["headers"]["x-edgee-tags"] == "chatbot, beta"
    assert first["body"]["messages"][0]["content"] == "hello"
    assert first["tags"] == ["production", "chatbot", "beta"]
    assert first["fixture"] == "greeting"
    assert first["model"] == "openai/gpt-4o"
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert first["response"]["content"] == "Hello! How can I assist you today?"
    assert first["response"]["finish_reason"] == "stop"
    assert calls[2]["fixture"] == "greeting" and calls[2]["body"]["stream"] is True
    assert calls[3]["body"] == "{oops"
    assert calls[3]["response"]["error"]["code"] == "invalid_json"
    assert calls[4]["fixture"] is None and calls[4]["body"] is None


def test_unmatched_call_has_null_fixture_and_near_misses(gw: MockGateway) -> None:
    ask(gw, "something else entirely")
    (call,) = journal(gw.port)
    assert call["fixture"] is None
    assert call["status"] == 200
    assert call["response"]["content"]
    assert {miss["fixture"] for miss in call["near_misses"]} <= {
        "greeting",
        "weather-tool-call",
        "rate-limited-then-ok",
    }


def test_filters(gw: MockGateway) -> None:
    ask(gw, "hello", tags=["a"])
    ask(gw, "hi", model="anthropic/claude-haiku-4-5", headers={"X-Edgee-Tags": "b"})
    ask(gw, "hello", model="invalid-model")
    request(gw.port, "GET", "/v1/models")
    ask(gw, "hello", tags=["a", "b"])

    def ids(**query: Any) -> list[int]:
        return [int(c["id"].rsplit("-", 1)[1]) for c in journal(gw.port, **query)]

    everything = ids()
    assert len(everything) == 5 and everything == sorted(everything)
    first = everything[0]
    rel = [n - first + 1 for n in everything]
    assert rel == [1, 2, 3, 4, 5]

    def rel_ids(**query: Any) -> list[int]:
        return [n - first + 1 for n in ids(**query)]

    assert rel_ids(path=CHAT) == [1, 2, 3, 5]
    assert rel_ids(path="/v1/models") == [4]
    assert rel_ids(model="anthropic/claude-haiku-4-5") == [2]
    assert rel_ids(model="invalid-model") == [3]
    assert rel_ids(fixture="greeting") == [1, 5]
    assert rel_ids(tag="a") == [1, 5]
    assert rel_ids(tag="b") == [2, 5]
    assert rel_ids(status=400) == [3]
    assert rel_ids(status=200) == [1, 2, 4, 5]
    assert rel_ids(limit=2) == [4, 5]
    assert rel_ids(path=CHAT, status=200, limit=2) == [2, 5]
    assert rel_ids(tag="a", fixture="greeting", model="openai/gpt-4o") == [1, 5]
    assert rel_ids(tag="nope") == []


@pytest.mark.parametrize("query", ["status=abc", "limit=x", "limit=0", "limit=-1", "timeout=soon"])
def test_bad_filter_values_are_400(gw: MockGateway, query: str) -> None:
    answer = request(gw.port, "GET", f"/__mockgw/calls?{query}", key=None)
    assert answer.status == 400
    assert answer.error["param"] == query.split("=")[0]


def test_delete_calls(gw: MockGateway) -> None:
    ask(gw, "hello")
    assert len(journal(gw.port)) == 1
    assert request(gw.port, "DELETE", "/__mockgw/calls", key=None).json() == {"cleared": True}
    assert journal(gw.port) == []
    ask(gw, "hello")
    assert len(journal(gw.port)) == 1


def test_fixtures_crud(gw: MockGateway) -> None:
    listed = request(gw.port, "GET", "/__mockgw/fixtures", key=None).json()["fixtures"]
    assert [f["name"] for f in listed] == ["greeting", "weather-tool-call", "rate-limited-then-ok"]
    assert listed[0]["source"].endswith("hello.yaml")

    one = {"name": "pinned", "match": {"last_user_message": "ping"}, "reply": {"content": "pong"}}
    added = request(gw.port, "POST", "/__mockgw/fixtures", one, key=None)
    assert added.status == 201 and added.json() == {"added": ["pinned"]}
    document = {
        "version": 1,
        "fixtures": [
            {"name": "doc-a", "match": {"last_user_message": "alpha"}, "reply": {"content": "A"}},
            {
                "name": "doc-b",
                "match": {"last_user_message": "beta"},
                "replies": [{"content": "B1"}, {"content": "B2"}],
            },
        ],
    }
    assert request(gw.port, "POST", "/__mockgw/fixtures", document, key=None).json() == {"added": ["doc-a", "doc-b"]}

    assert ask(gw, "ping").json()["choices"][0]["message"]["content"] == "pong"
    assert [ask(gw, "beta").json()["choices"][0]["message"]["content"] for _ in range(3)] == ["B1", "B2", "B2"]
    assert [c["fixture"] for c in journal(gw.port)] == ["pinned", "doc-b", "doc-b", "doc-b"]
    listed = {f["name"]: f for f in request(gw.port, "GET", "/__mockgw/fixtures", key=None).json()["fixtures"]}
    assert listed["doc-b"]["uses"] == 3 and listed["doc-b"]["replies"] == 2
    assert listed["pinned"]["source"] == "<runtime>"

    duplicate = request(gw.port, "POST", "/__mockgw/fixtures", one, key=None)
    assert duplicate.status == 400 and "already loaded" in duplicate.error["message"]

    assert request(gw.port, "DELETE", "/__mockgw/fixtures?name=pinned", key=None).json() == {"removed": 1}
    assert ask(gw, "ping").status == 200
    assert journal(gw.port, limit=1)[0]["fixture"] is None
    assert request(gw.port, "DELETE", "/__mockgw/fixtures", key=None).json() == {"removed": 2}
    names = [f["name"] for f in request(gw.port, "GET", "/__mockgw/fixtures", key=None).json()["fixtures"]]
    assert names == ["greeting", "weather-tool-call", "rate-limited-then-ok"]


# (id, payload, the whole message, param)
BROKEN: list[tuple[str, Any, str, str | None]] = [
    (
        "unknown-reply-key",
        {"name": "typo", "reply": {"contnt": "x"}},
        "POST /__mockgw/fixtures, fixture 'typo': reply: unknown key 'contnt'; did you mean 'content'?",
        "reply",
    ),
    (
        "tool-arguments-not-json",
        {"name": "args", "reply": {"tool_calls": [{"name": "f", "arguments": "{nope"}]}},
        "POST /__mockgw/fixtures, fixture 'args': reply.tool_calls[0].arguments: not valid JSON: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        "reply.tool_calls[0].arguments",
    ),
    (
        "bad-regex",
        {"name": "re", "match": {"system": {"regex": "("}}, "reply": {"content": "x"}},
        "POST /__mockgw/fixtures, fixture 're': match.system.regex: invalid regular expression: "
        "missing ), unterminated subpattern at position 0",
        "match.system.regex",
    ),
    (
        "status-out-of-range",
        {"name": "st", "reply": {"error": {"status": 200}}},
        "POST /__mockgw/fixtures, fixture 'st': reply.error.status: must be at least 400, got 200",
        "reply.error.status",
    ),
    (
        "second-fixture-of-document",
        {
            "version": 1,
            "fixtures": [{"name": "ok", "reply": {"content": "x"}}, {"name": "bad", "reply": {"delay_ms": -1}}],
        },
        "POST /__mockgw/fixtures, fixture 'bad': fixtures[1].reply.delay_ms: must be at least 0, got -1",
        "fixtures[1].reply.delay_ms",
    ),
    ("document-without-version", {"fixtures": []}, "POST /__mockgw/fixtures: missing required key 'version'", None),
    (
        "every-mistake",
        {"name": "two", "match": {"modle": "x"}, "reply": {"content": 5}},
        "POST /__mockgw/fixtures, fixture 'two': match: unknown key 'modle'; did you mean 'model'?\n"
        "POST /__mockgw/fixtures, fixture 'two': reply.content: expected a string or null, got 5",
        "match",
    ),
]


@pytest.mark.parametrize(("payload", "message", "param"), [r[1:] for r in BROKEN], ids=[r[0] for r in BROKEN])
def test_broken_fixture_is_400_with_every_mistake_and_the_path_as_param(
    gw: MockGateway, payload: Any, message: str, param: str | None
) -> None:
    answer = request(gw.port, "POST", "/__mockgw/fixtures", payload, key=None)
    assert answer.status == 400
    error = {"code": "invalid_fixture", "message": message, "type": "invalid_request_error", "param": param}
    assert answer.error == error
    assert len(request(gw.port, "GET", "/__mockgw/fixtures", key=None).json()["fixtures"]) == 3  # nothing half-added


@pytest.mark.parametrize("path", ["/fixtures", "/faults"])
@pytest.mark.parametrize(
    "body", [b"{not json", b"", b'{"name": NaN}', b"[" * 5000 + b"]" * 5000], ids=["text", "empty", "nan", "deep"]
)
def test_control_payload_that_is_not_json_is_400(gw: MockGateway, path: str, body: bytes) -> None:
    answer = request(gw.port, "POST", "/__mockgw" + path, body, key=None)
    assert answer.status == 400
    assert answer.error["code"] == "invalid_json"
    assert not [p for p in gw.state.problems if "internal error" in p]


def test_reset_restores_the_start(gw: MockGateway) -> None:
    flaky = {"tags": ["flaky"]}
    assert ask(gw, "x", **flaky).status == 429
    assert ask(gw, "x", **flaky).status == 200
    request(
        gw.port, "POST", "/__mockgw/fixtures", {"name": "extra", "reply": {"content": "x"}, "priority": -1}, key=None
    )
    assert request(gw.port, "POST", "/__mockgw/reset", key=None).json() == {"reset": True, "released": 0}
    assert journal(gw.port) == []
    assert len(request(gw.port, "GET", "/__mockgw/fixtures", key=None).json()["fixtures"]) == 3
    assert ask(gw, "x", **flaky).status == 429  # the reply sequence starts over


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("PUT", "/calls", 405, "method_not_allowed"),
        ("POST", "/health", 405, "method_not_allowed"),
        ("PATCH", "/fixtures", 405, "method_not_allowed"),
        ("GET", "/reset", 405, "method_not_allowed"),
        ("POST", "/scenarios/checkout", 405, "method_not_allowed"),
        ("GET", "/nope", 404, "not_found"),
    ],
)
def test_control_mistakes_are_enveloped_and_not_journaled(
    gw: MockGateway, method: str, path: str, status: int, code: str
) -> None:
    answer = request(gw.port, method, "/__mockgw" + path, key=None)
    assert answer.status == status
    assert answer.error["code"] == code
    if status == 405:
        assert method not in answer.headers["Allow"]
    assert journal(gw.port) == []


def test_journal_is_bounded(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(journal_limit=3)
    for index in range(5):
        ask(gateway, f"message {index}")
    calls = journal(gateway.port)
    assert [c["id"] for c in calls] == ["call-3", "call-4", "call-5"]
    assert [c["body"]["messages"][0]["content"] for c in calls] == ["message 2", "message 3", "message 4"]


def test_journal_keeps_bodies_within_its_byte_budget(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(journal_max_bytes=3000)
    for index in range(5):
        ask(gateway, f"message {index} " + "x" * 900)  # each call holds ~1 KB of request and ~0.5 KB of answer
    calls = journal(gateway.port)
    assert 1 <= len(calls) < 5
    assert calls[-1]["body"]["messages"][0]["content"].startswith("message 4")


def test_sessions_keep_journals_apart(gw: MockGateway) -> None:
    ask(gw, "hello", headers={"X-Mockgw-Session": "one"})
    ask(gw, "hello", headers={"X-Mockgw-Session": "two"})
    assert len(journal(gw.port, session="one")) == 1
    assert len(journal(gw.port, all="")) >= 2


def test_a_streamed_call_is_journaled_by_the_time_the_client_has_read_it(gw: MockGateway) -> None:
    for count in range(1, 21):
        answer = ask(gw, "hello", stream=True)
        assert answer.body.endswith(b"data: [DONE]\n\n")
        assert len(journal(gw.port)) == count
    edgee_style = [c["response"]["content"] for c in journal(gw.port)]
    assert set(edgee_style) == {"Hello! How can I assist you today?"}
