"""Every documented refusal over a real socket: the status, the envelope, the message, and the journal entry."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockgw.core.names import SESSION_HEADER
from mockgw.gateway import config
from mockgw.gateway.validation import check_response
from mockgw.server.runner import MockGateway
from tests.requests import INVALID_CHAT_REQUESTS, MESSAGE_FRAGMENTS, VALID_CHAT_REQUESTS, Row
from tests.support.rawhttp import CHAT, Answer, chat, journal, request

TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
}

CONFIG = """\
seed: 7
max_body_bytes: 2048
keys:
  - key: sk-active
    models: ["openai/*", "acme/*"]
  - key: sk-inactive
    state: inactive
  - key: sk-expired
    state: expired
models:
  - id: openai/gpt-4o
    providers: [openai, azure]
  - id: acme/shared
  - id: other/shared
  - id: acme/solo
"""


@pytest.fixture(scope="module")
def open_gw() -> Iterator[MockGateway]:
    """Defaults: any non-empty key, the default catalog, 4 MiB bodies."""
    gateway = MockGateway(config.resolve({"port": 0}, env={})).start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def keyed_gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockGateway]:
    """Configured by a mockgw.yaml file: a key table, a custom catalog and a 2 KiB body limit."""
    path = tmp_path_factory.mktemp("cfg") / "mockgw.yaml"
    path.write_text(CONFIG)
    gateway = MockGateway(config.resolve({"port": 0}, str(path), env={})).start()
    yield gateway
    gateway.stop()


def session() -> dict[str, str]:
    """A fresh journal session, so each case finds exactly its own calls."""
    return {SESSION_HEADER: uuid.uuid4().hex}


def assert_refused(answer: Answer, status: int, code: str, message: str | None = None) -> dict[str, Any]:
    assert answer.status == status, answer.body
    error = answer.error
    assert error["code"] == code
    assert error["type"] == TYPES[status]
    if message is not None:
        assert error["message"] == message
    return error


def assert_journaled(port: int, headers: dict[str, str], status: int, path: str = CHAT) -> dict[str, Any]:
    calls = journal(port, session=headers[SESSION_HEADER])
    assert [(c["path"], c["status"]) for c in calls] == [(path, status)]
    return calls[0]


HELLO = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hello"}]}


def basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# (id, headers sent (no Authorization unless given), status, message)
OPEN_AUTH: list[tuple[str, dict[str, str], int, str | None]] = [
    ("bearer", {"Authorization": "Bearer sk-anything"}, 200, None),
    ("bearer-lowercase-scheme", {"Authorization": "bearer sk-anything"}, 200, None),
    ("basic-key-as-user", {"Authorization": basic("sk-anything")}, 200, None),
    ("x-api-key", {"x-api-key": "sk-anything"}, 200, None),
    ("x-edgee-api-key", {"x-edgee-api-key": "sk-anything"}, 200, None),
    ("x-edgee-api-key-wins", {"x-edgee-api-key": "sk-anything", "Authorization": "Token nope"}, 200, None),
    ("missing", {}, 401, "Missing Authorization header"),
    ("empty-x-api-key", {"x-api-key": ""}, 401, "Missing Authorization header"),
    ("bearer-without-key", {"Authorization": "Bearer"}, 401, "Invalid Authorization header format"),
    ("bearer-blank-key", {"Authorization": "Bearer   "}, 401, "Invalid Authorization header format"),
    ("unknown-scheme", {"Authorization": "Token sk-anything"}, 401, "Invalid Authorization header format"),
    ("bare-key", {"Authorization": "sk-anything"}, 401, "Invalid Authorization header format"),
    ("basic-not-base64", {"Authorization": "Basic !!!"}, 401, "Invalid Authorization header format"),
    ("basic-with-password", {"Authorization": basic("sk-anything", "pw")}, 401, "Invalid Authorization header format"),
    ("basic-empty-user", {"Authorization": basic("")}, 401, "Invalid Authorization header format"),
    ("basic-no-colon", {"Authorization": "Basic " + base64.b64encode(b"sk").decode()}, 401, None),
]


@pytest.mark.parametrize(
    ("headers", "status", "message"), [row[1:] for row in OPEN_AUTH], ids=[r[0] for r in OPEN_AUTH]
)
def test_credentials_by_default(
    open_gw: MockGateway, headers: dict[str, str], status: int, message: str | None
) -> None:
    sid = session()
    answer = chat(open_gw.port, HELLO, {**headers, **sid}, key=None)
    if status == 200:
        assert answer.status == 200, answer.body
        assert answer.json()["object"] == "chat.completion"
    else:
        assert_refused(answer, status, "unauthorized", message)
    call = assert_journaled(open_gw.port, sid, status)
    for name in ("authorization", "x-api-key", "x-edgee-api-key"):
        assert "sk-anything" not in call["headers"].get(name, "")


# (id, key, model, status, code, message)
KEYED: list[tuple[str, str, str, int, str | None, str | None]] = [
    ("active-allowed", "sk-active", "openai/gpt-4o", 200, None, None),
    ("active-bare-id", "sk-active", "gpt-4o", 200, None, None),
    ("active-glob-other-author", "sk-active", "acme/solo", 200, None, None),
    (
        "active-model-outside-globs",
        "sk-active",
        "other/shared",
        403,
        "forbidden",
        "Model 'other/shared' is not allowed for this API key",
    ),
    ("inactive", "sk-inactive", "openai/gpt-4o", 403, "forbidden", "API key is inactive"),
    ("expired", "sk-expired", "openai/gpt-4o", 403, "forbidden", "API key has expired"),
    (
        "unknown-key",
        "sk-unknown",
        "openai/gpt-4o",
        401,
        "unauthorized",
        "Failed to retrieve API key: API key not found",
    ),
    ("not-in-configured-catalog", "sk-active", "openai/gpt-5.2", 400, "model_not_found", None),
]


@pytest.mark.parametrize(
    ("key", "model", "status", "code", "message"), [row[1:] for row in KEYED], ids=[r[0] for r in KEYED]
)
def test_key_table_from_config_file(
    keyed_gw: MockGateway, key: str, model: str, status: int, code: str | None, message: str | None
) -> None:
    sid = session()
    answer = chat(keyed_gw.port, {**HELLO, "model": model}, sid, key=key)
    if status == 200:
        assert answer.status == 200, answer.body
        assert answer.json()["model"] == model
    else:
        assert code is not None
        assert_refused(answer, status, code, message)
    assert_journaled(keyed_gw.port, sid, status)


def test_key_state_applies_to_every_credential_form(keyed_gw: MockGateway) -> None:
    for headers in ({"x-api-key": "sk-expired"}, {"Authorization": basic("sk-expired")}):
        assert_refused(chat(keyed_gw.port, HELLO, headers, key=None), 403, "forbidden", "API key has expired")


# (id, model, status, code, message, provider header)
MODEL_IDS: list[tuple[str, Any, int, str | None, str | None, str | None]] = [
    ("author-model", "openai/gpt-5.2", 200, None, None, "openai"),
    ("provider-pin", "openai/gpt-5.2:azure", 200, None, None, "azure"),
    ("bare-unique", "gpt-4o", 200, None, None, "openai"),
    ("bare-with-pin", "claude-haiku-4-5:bedrock", 200, None, None, "bedrock"),
    ("other-author", "anthropic/claude-haiku-4-5", 200, None, None, "anthropic"),
    ("malformed", "invalid-model", 400, "bad_model_id", "Invalid model ID: 'invalid-model'", None),
    ("empty", "", 400, "bad_model_id", "Invalid model ID: ''", None),
    ("two-slashes", "openai/gpt-4o/extra", 400, "bad_model_id", "Invalid model ID: 'openai/gpt-4o/extra'", None),
    ("spaces", "openai/gpt 4o", 400, "bad_model_id", "Invalid model ID: 'openai/gpt 4o'", None),
    ("unknown", "openai/gpt-1", 400, "model_not_found", "Model 'openai/gpt-1' not found", None),
    (
        "provider-not-serving",
        "openai/gpt-5.2:anthropic",
        400,
        "provider_not_supported",
        "Provider 'anthropic' is not supported for model 'openai/gpt-5.2'",
        None,
    ),
]


@pytest.mark.parametrize(
    ("model", "status", "code", "message", "provider"), [r[1:] for r in MODEL_IDS], ids=[r[0] for r in MODEL_IDS]
)
def test_model_ids(
    open_gw: MockGateway, model: str, status: int, code: str | None, message: str | None, provider: str | None
) -> None:
    sid = session()
    answer = chat(open_gw.port, {**HELLO, "model": model}, sid)
    if status == 200:
        assert answer.status == 200, answer.body
        assert answer.headers["X-Edgee-Provider"] == provider
        assert answer.json()["model"] == model
    else:
        assert code is not None
        error = assert_refused(answer, status, code, message)
        assert error["param"] == "model"
    assert_journaled(open_gw.port, sid, status)


def test_bare_id_served_by_two_authors_is_ambiguous(keyed_gw: MockGateway) -> None:
    answer = chat(keyed_gw.port, {**HELLO, "model": "shared"}, key="sk-active")
    assert_refused(answer, 400, "bad_model_id", "Invalid model ID: 'shared'")
    assert chat(keyed_gw.port, {**HELLO, "model": "solo"}, key="sk-active").status == 200


def test_models_list_needs_no_key(open_gw: MockGateway, keyed_gw: MockGateway) -> None:
    answer = request(open_gw.port, "GET", "/v1/models", key=None)
    assert answer.status == 200
    body = answer.json()
    assert body["object"] == "list"
    assert {"id": "openai/gpt-4o", "object": "model", "created": 1715367049, "owned_by": "openai"} in body["data"]
    configured = request(keyed_gw.port, "GET", "/v1/models", key=None).json()
    assert [m["id"] for m in configured["data"]] == ["openai/gpt-4o", "acme/shared", "other/shared", "acme/solo"]
    assert configured["data"][1]["owned_by"] == "acme"


# (id, method, path, status, code)
ROUTES: list[tuple[str, str, str, int, str]] = [
    ("unknown-path", "GET", "/v1/embeddings", 404, "not_found"),
    ("unknown-post", "POST", "/v2/chat/completions", 404, "not_found"),
    ("root", "GET", "/", 404, "not_found"),
    ("get-chat", "GET", CHAT, 405, "method_not_allowed"),
    ("put-chat", "PUT", CHAT, 405, "method_not_allowed"),
    ("post-models", "POST", "/v1/models", 405, "method_not_allowed"),
    ("delete-models", "DELETE", "/v1/models", 405, "method_not_allowed"),
]


@pytest.mark.parametrize(("method", "path", "status", "code"), [r[1:] for r in ROUTES], ids=[r[0] for r in ROUTES])
def test_unknown_paths_and_wrong_methods(open_gw: MockGateway, method: str, path: str, status: int, code: str) -> None:
    sid = session()
    answer = request(open_gw.port, method, path, HELLO, sid)
    assert_refused(answer, status, code)
    if status == 405:
        assert answer.headers["Allow"] in ("POST", "GET")
    assert_journaled(open_gw.port, sid, status, path)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"", "the body is empty"),
        (b"not json", "Expecting value"),
        (b'{"model": "openai/gpt-4o",', "Expecting"),
        (b"[]", "got an array"),
        (b'"hello"', "got a string"),
        (b"42", "got a number"),
        (b"null", "got null"),
        (b"true", "got a boolean"),
        (b"\xff\xfe\x00", "JSON"),
        (b'{"model": "openai/gpt-4o", "messages": [], "temperature": NaN}', "NaN is not a JSON value"),
        (b'{"x": Infinity}', "Infinity is not a JSON value"),
        (b'{"x": ' + b"[" * 200 + b"]" * 200 + b"}", "nested more than 128 levels deep"),
        (b"[" * 100_000 + b"]" * 100_000, "nested more than 128 levels deep"),
        (
            b'{"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "echo \\ud800"}]}',
            "unpaired surrogate \\ud800",
        ),
    ],
    ids=[
        "empty",
        "text",
        "truncated",
        "array",
        "string",
        "number",
        "null",
        "boolean",
        "not-utf8",
        "nan",
        "infinity",
        "nested-200",
        "nested-100000",
        "lone-surrogate",
    ],
)
def test_invalid_json(open_gw: MockGateway, body: bytes, detail: str) -> None:
    sid = session()
    error = assert_refused(chat(open_gw.port, body, sid), 400, "invalid_json")
    assert detail in error["message"]
    assert_journaled(open_gw.port, sid, 400)
    assert open_gw.state.problems == []


def test_journal_still_readable_after_deeply_nested_bodies(open_gw: MockGateway) -> None:
    """A body nested just below the parser's limit used to crash every later read of the journal."""
    sid = session()
    nested = b'{"model":"openai/gpt-4o","messages":[{"role":"user","content":"x"}],"x":' + b"[" * 600
    chat(open_gw.port, nested + b"]" * 600 + b"}", sid)
    assert [c["status"] for c in journal(open_gw.port, session=sid[SESSION_HEADER])] == [400]
    assert request(open_gw.port, "GET", "/__mockgw/calls", key=None).status == 200


def test_body_too_large_default_limit(open_gw: MockGateway) -> None:
    sid = session()
    body = b'{"pad":"' + b"x" * (4 * 1024 * 1024) + b'"}'
    assert_refused(chat(open_gw.port, body, sid), 413, "request_too_large")
    assert_journaled(open_gw.port, sid, 413)
    just_fits = {**HELLO, "pad": "x" * (4 * 1024 * 1024 - 200)}
    assert chat(open_gw.port, just_fits).status == 200


def test_body_too_large_configured_limit(keyed_gw: MockGateway) -> None:
    sid = session()
    error = assert_refused(
        chat(keyed_gw.port, {**HELLO, "pad": "x" * 3000}, sid, key="sk-active"), 413, "request_too_large"
    )
    assert "2048" in error["message"]
    assert_journaled(keyed_gw.port, sid, 413)


def test_body_too_large_without_content_length(keyed_gw: MockGateway) -> None:
    """A chunked upload is cut off once it passes the limit."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", keyed_gw.port, timeout=30)
    try:
        connection.request(
            "POST",
            CHAT,
            body=iter([b'{"pad":"', b"x" * 1500, b"x" * 1500, b'"}']),
            headers={"Authorization": "Bearer sk-active", "Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.status == 413
        assert b"request_too_large" in response.read()
    finally:
        connection.close()


def test_strict_mode_from_config_file(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text(
        "version: 1\nfixtures:\n  - name: weather\n    match:\n      model: openai/*\n"
        "      last_user_message: weather\n    reply: {content: Sunny.}\n"
    )
    path = tmp_path / "mockgw.yaml"
    path.write_text("strict: true\nfixtures: [fixtures.yaml]\n")
    gateway = MockGateway(config.resolve({"port": 0}, str(path), env={})).start()
    try:
        sid = session()
        answer = chat(gateway.port, HELLO, sid)
        error = assert_refused(answer, 404, "no_matching_fixture")
        assert "'weather'" in error["message"]
        assert "last_user_message" in error["message"]
        assert "'hello'" in error["message"]
        call = assert_journaled(gateway.port, sid, 404)
        assert call["fixture"] is None
        assert call["near_misses"][0]["fixture"] == "weather"
        ok = chat(gateway.port, {**HELLO, "messages": [{"role": "user", "content": "weather?"}]})
        assert ok.status == 200 and ok.json()["choices"][0]["message"]["content"] == "Sunny."
    finally:
        gateway.stop()


def expected_for_socket(row: Row) -> tuple[int, str | None, str | None]:
    """A body that is not a JSON object never reaches the schema: over HTTP it is `invalid_json`."""
    _, body, status, code, param = row
    if not isinstance(body, dict):
        return 400, "invalid_json", None
    return status, code, param


@pytest.mark.parametrize("row", INVALID_CHAT_REQUESTS, ids=[r[0] for r in INVALID_CHAT_REQUESTS])
def test_invalid_chat_requests_over_http(open_gw: MockGateway, row: Row) -> None:
    status, code, param = expected_for_socket(row)
    sid = session()
    answer = chat(open_gw.port, row[1], sid)
    assert code is not None
    error = assert_refused(answer, status, code)
    assert error["param"] == param
    if row[0] in MESSAGE_FRAGMENTS and isinstance(row[1], dict):
        assert MESSAGE_FRAGMENTS[row[0]] in error["message"]
    call = assert_journaled(open_gw.port, sid, status)
    assert call["body"] == row[1]
    assert call["response"]["error"]["code"] == code


def test_enough_invalid_requests() -> None:
    assert len(INVALID_CHAT_REQUESTS) >= 40


def test_no_internal_errors_were_recorded(open_gw: MockGateway, keyed_gw: MockGateway) -> None:
    assert open_gw.state.problems == []
    assert keyed_gw.state.problems == []


# Schema-valid bodies that a later step refuses on purpose: the conversation rules (conversation_rules) answer an
# assistant tool call left without its tool result the way the providers do.
REFUSED_AFTER_SCHEMA = {"assistant-without-content": "messages[1].tool_calls[0].id"}


@pytest.mark.parametrize("row", VALID_CHAT_REQUESTS, ids=[r[0] for r in VALID_CHAT_REQUESTS])
def test_valid_chat_requests_over_http(open_gw: MockGateway, row: Row) -> None:
    """The schema table's valid bodies pass every later check too (model ids, conversation rules) with a 200."""
    sid = session()
    answer = chat(open_gw.port, row[1], sid)
    if row[0] in REFUSED_AFTER_SCHEMA:
        assert assert_refused(answer, 400, "invalid_request")["param"] == REFUSED_AFTER_SCHEMA[row[0]]
        assert_journaled(open_gw.port, sid, 400)
        return
    assert answer.status == 200, answer.body
    if row[1].get("stream"):
        events = answer.body.decode().split("\n\n")
        assert events[-2:] == ["data: [DONE]", ""]
        assert all(check_response("chat_chunk", json.loads(e.removeprefix("data: "))) == [] for e in events[:-2])
    else:
        assert check_response("chat_response", answer.json()) == []
    assert_journaled(open_gw.port, sid, 200)


def test_content_encoding_the_body_does_not_follow(open_gw: MockGateway) -> None:
    import gzip

    good = chat(open_gw.port, gzip.compress(json.dumps(HELLO).encode()), {"Content-Encoding": "gzip"})
    assert good.status == 200
    sid = session()
    bad = chat(open_gw.port, b"this is not gzip", {"Content-Encoding": "gzip", **sid})
    error = assert_refused(bad, 400, "invalid_json")
    assert "Content-Encoding: gzip" in error["message"]
    assert_journaled(open_gw.port, sid, 400)
    assert open_gw.state.problems == []
