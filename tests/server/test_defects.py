"""One test per defect of issue 11 that a single request shows: overflowing numbers, BOM and UTF-16 bodies,
credentials in near misses and the journal, fixture headers that would split a header, a headers-heavy journal,
and a bad MOCKGW_PORT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest

from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY
from tests.support.rawhttp import chat, journal, request

HELLO: dict[str, Any] = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hello"}]}


def test_a_number_beyond_a_double_is_a_400_naming_the_field(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory()
    body = json.dumps(HELLO)[:-1].encode() + b', "temperature": 1e999}'
    answer = chat(gateway.port, body)
    assert answer.status == 400
    assert (answer.error["code"], answer.error["param"]) == ("invalid_json", "temperature")
    assert "out of range" in answer.error["message"]
    (call,) = journal(gateway.port)
    json.dumps(call, allow_nan=False)  # the journal stays JSON (no Infinity)
    compress = chat(gateway.port, b'{"messages": [], "x": -1e400}')
    assert compress.status == 400


@pytest.mark.parametrize(
    "body",
    [b"\xef\xbb\xbf" + json.dumps(HELLO).encode(), json.dumps(HELLO).encode("utf-16")],
    ids=["utf-8 BOM", "utf-16"],
)
def test_bom_and_utf16_bodies_are_refused_as_serde_json_refuses_them(
    gateway_factory: Callable[..., MockGateway], body: bytes
) -> None:
    answer = chat(gateway_factory().port, body)
    assert answer.status == 400
    assert answer.error["code"] == "invalid_json"


def test_a_strict_near_miss_on_a_key_header_never_shows_the_key(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(strict=True)
    fixture = {"name": "keyed", "match": {"headers": {"x-api-key": "sk-expected-secret"}}, "reply": {"content": "x"}}
    assert request(gateway.port, "POST", "/__mockgw/fixtures", fixture, key=None).status == 201
    client = anthropic.Anthropic(base_url=gateway.url, api_key="sk-client-secret-123", max_retries=0)
    with pytest.raises(anthropic.NotFoundError) as refused:
        client.messages.create(
            model="anthropic/claude-haiku-4-5",
            max_tokens=10,
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"Cookie": "session=cookie-secret", "api-key": "azure-secret", "anthropic-api-key": "a-s"},
        )
    message = str(refused.value)
    assert "sk-client-secret-123" not in message and "sk-expected-secret" not in message
    everything = (
        json.dumps(journal(gateway.port))
        + request(gateway.port, "GET", "/__mockgw/near-misses", key=None).body.decode()
    )
    for secret in ("sk-client-secret-123", "sk-expected-secret", "cookie-secret", "azure-secret", '"a-s"'):
        assert secret not in everything
    assert "[redacted]" in everything


@pytest.mark.parametrize(
    ("reply", "field"),
    [
        ({"content": "x", "headers": {"X-Inject": "a\r\nSet-Cookie: evil=1"}}, "reply.headers.X-Inject"),
        ({"content": "x", "headers": {"Bad Name:": "v"}}, "reply.headers.Bad Name:"),
        ({"content": "x", "headers": {"": "v"}}, "reply.headers."),
        ({"content": "x", "headers": {"Content-Length": "3"}}, "reply.headers.Content-Length"),
        ({"content": "x", "headers": {"Transfer-Encoding": "chunked"}}, "reply.headers.Transfer-Encoding"),
        ({"error": {"status": 500, "content_type": "text/plain\r\nX: y"}}, "reply.error.content_type"),
    ],
    ids=["crlf-value", "bad-name", "empty-name", "content-length", "transfer-encoding", "content-type-crlf"],
)
def test_fixture_headers_that_would_break_the_answer_are_refused_at_load(
    gateway_factory: Callable[..., MockGateway], reply: dict[str, Any], field: str
) -> None:
    gateway = gateway_factory()
    answer = request(gateway.port, "POST", "/__mockgw/fixtures", {"name": "bad", "reply": reply}, key=None)
    assert answer.status == 400, answer.body
    assert answer.error["code"] == "invalid_fixture"
    assert field in answer.error["message"]
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
    assert client.chat.completions.create(**HELLO).choices[0].message.content  # nothing of it was kept


def test_the_journal_byte_cap_counts_headers(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(journal_max_bytes=200_000)
    heavy = {f"x-filler-{i}": "v" * 4000 for i in range(10)}  # ~40 KB of headers, a tiny body
    for _ in range(12):
        assert chat(gateway.port, HELLO, headers=heavy).status == 200
    kept = journal(gateway.port)
    assert 3 <= len(kept) <= 5  # ~40 KB each under a 200 KB cap


def test_a_bad_port_variable_exits_2_with_one_line() -> None:
    env = {**os.environ, "MOCKGW_PORT": "abc"}
    done = subprocess.run(
        [sys.executable, "-m", "mockgw", "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "mockgw: MOCKGW_PORT='abc' is not an integer"
