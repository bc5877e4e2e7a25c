"""Requests refused before mockgw's handler sees them (issue 11, item 8), and a client leaving mid-upload (item 5).

Over raw sockets: each request aiohttp's parser refuses answers the documented envelope with its own code and a
message saying what to fix, and is in `GET /__mockgw/calls` with what its first bytes say (method, path, session).
Nothing is logged as an error and no traceback is printed: these are the client's mistakes, not mockgw's.
"""

from __future__ import annotations

import gzip
import json
import logging
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import brotli
import openai
import pytest

from mockgw.gateway import config
from mockgw.server.refusals import Head, read_head
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY
from tests.support.rawhttp import chat, exchange, journal, request
from tests.support.serve import URL_LINE

HELLO = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture(scope="module")
def gw() -> Iterator[MockGateway]:
    gateway = MockGateway(config.resolve({"port": 0}, env={})).start()
    yield gateway
    gateway.stop()


def _head(method: str, target: str, session: str, *extra: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", f"X-Mockgw-Session: {session}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _post(session: str, body: bytes, *extra: str) -> bytes:
    head = _head("POST", "/v1/chat/completions", session, "Content-Type: application/json", *extra)
    return head + body


# (id, request bytes for a session, status, code, words of the message, journaled method and path)
CASES: list[tuple[str, Any, int, str, str, tuple[str, str]]] = [
    (
        "request line not HTTP",
        lambda s: _head("GET", "/v1/models", s).replace(b"HTTP/1.1", b"FOO/1.1", 1),
        400,
        "malformed_request",
        "not valid HTTP/1.1",
        ("GET", "/v1/models"),
    ),
    (
        "control character in the path",
        lambda s: _head("GET", "/v1/mo\x01dels", s),
        400,
        "malformed_request",
        "Invalid char in url path",
        ("GET", "/v1/mo\x01dels"),
    ),
    (
        "request line of 9 KB",
        lambda s: _head("GET", "/v1/models?q=" + "a" * 9000, s),
        414,
        "request_line_too_long",
        "longer than 8190 bytes",
        ("GET", "/v1/models"),
    ),
    (
        "header of 8 KB",
        lambda s: _head("GET", "/v1/models", s, "X-Big: " + "a" * 8200),
        431,
        "header_too_large",
        "header line is longer than 8190 bytes",
        ("GET", "/v1/models"),
    ),
    (
        "130 headers",
        lambda s: _head("GET", "/v1/models", s, *(f"X-H{i}: {i}" for i in range(130))),
        431,
        "too_many_headers",
        "more than 128 headers",
        ("GET", "/v1/models"),
    ),
    (
        "encoded newline in the path",
        lambda s: _head("GET", "/v1/chat%0Acompletions", s),
        404,
        "not_found",
        "Unknown path '/v1/chat\ncompletions'",
        ("GET", "/v1/chat\ncompletions"),
    ),
    (
        "Content-Encoding: zstd",
        lambda s: _post(s, b"(\xb5/\xfd\x00", "Content-Encoding: zstd", "Content-Length: 5"),
        415,
        "unsupported_content_encoding",
        "Content-Encoding: zstd is not supported: mockgw decodes request bodies in gzip, deflate, br",
        ("POST", "/v1/chat/completions"),
    ),
    (
        "Content-Length not a number",
        lambda s: _post(s, b"{}", "Content-Length: two"),
        400,
        "malformed_request",
        "Invalid character in Content-Length",
        ("POST", "/v1/chat/completions"),
    ),
    (
        "bad chunk size",
        lambda s: _post(s, b"zz\r\n{}\r\n0\r\n\r\n", "Transfer-Encoding: chunked"),
        400,
        "malformed_request",
        "chunk size",
        ("POST", "/v1/chat/completions"),
    ),
    (
        "OPTIONS *",
        lambda s: _head("OPTIONS", "*", s),
        404,
        "not_found",
        "Unknown request target '*'",
        ("OPTIONS", "*"),
    ),
    (
        "unknown Expect",
        lambda s: _post(s, b"{}", "Expect: teapot", "Content-Length: 2"),
        417,
        "expectation_failed",
        "Unknown Expect: teapot: mockgw only understands `Expect: 100-continue`",
        ("POST", "/v1/chat/completions"),
    ),
    (
        "session in the path",
        lambda s: _head("GET", f"/s/{s}/v1/models", "other").replace(b"HTTP/1.1", b"HTTP/9", 1),
        400,
        "malformed_request",
        "not valid HTTP/1.1",
        ("GET", "/v1/models"),
    ),
]


@pytest.mark.parametrize(
    ("data", "status", "code", "said", "journaled"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_request_aiohttp_refuses_answers_the_envelope_and_is_journaled(
    gw: MockGateway,
    caplog: pytest.LogCaptureFixture,
    data: Any,
    status: int,
    code: str,
    said: str,
    journaled: tuple[str, str],
) -> None:
    session = uuid.uuid4().hex
    answer = exchange(gw.port, data(session))
    assert answer.status == status, answer.body
    error = answer.error  # exactly the documented keys, as application/json
    assert (error["code"], error["type"]) == (code, "not_found_error" if status == 404 else "invalid_request_error")
    assert said in error["message"]
    calls = journal(gw.port, session=session)
    assert [(c["method"], c["path"], c["status"], c["response"]["error"]["code"]) for c in calls] == [
        (*journaled, status, code)
    ]
    assert calls[0]["response"]["error"]["message"] == error["message"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_an_unsupported_encoding_names_the_encodings_accepted(gw: MockGateway) -> None:
    answer = exchange(gw.port, _post("enc", b"x", "Content-Encoding: zstd", "Content-Length: 1"))
    assert answer.headers["Accept-Encoding"] == "gzip, deflate, br"
    assert answer.error["param"] == "Content-Encoding"


def test_a_control_body_over_the_limit_gets_the_envelope(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(max_body_bytes=1024)
    answer = request(gateway.port, "POST", "/__mockgw/fixtures", {"name": "x" * 2000}, key=None)
    assert (answer.status, answer.error["code"]) == (413, "request_too_large")
    assert "Send a smaller request body" in answer.error["message"]
    assert journal(gateway.port) == []  # the control endpoint's own requests are not journaled


def test_garbage_and_tls_get_the_envelope_and_land_in_the_journal(gw: MockGateway) -> None:
    garbage = exchange(gw.port, b"GARBAGE\r\n\r\n")
    assert (garbage.status, garbage.error["code"]) == (400, "malformed_request")
    assert "GARBAGE" in garbage.error["message"]
    tls = exchange(gw.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a TLS ClientHello's first bytes
    assert (tls.status, tls.error["code"]) == (400, "malformed_request")
    assert "Use an http:// URL" in tls.error["message"]
    methods = [c["method"] for c in journal(gw.port, status=400)]
    assert "GARBAGE" in methods and "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" in methods


def test_br_and_gzip_bodies_are_decoded(gw: MockGateway) -> None:
    body = json.dumps(HELLO).encode()
    for encoding, data in (("br", brotli.compress(body)), ("gzip", gzip.compress(body))):
        answer = chat(gw.port, data, {"Content-Encoding": encoding})
        assert answer.status == 200, (encoding, answer.body)
        assert answer.json()["choices"][0]["message"]["content"]


def _leave_mid_upload(port: int, session: str) -> None:
    """Send the head and 10 bytes of a 100,000-byte body, then close."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(_post(session, b'{"model": ', "Content-Length: 100000", f"Authorization: Bearer {API_KEY}"))
        time.sleep(0.2)  # the server is reading the body when the client leaves


def _journaled(port: int, session: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while not (calls := journal(port, session=session)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return calls


def test_a_client_leaving_mid_upload_is_journaled_without_an_answer(
    gw: MockGateway, caplog: pytest.LogCaptureFixture
) -> None:
    session = uuid.uuid4().hex
    _leave_mid_upload(gw.port, session)
    [call] = _journaled(gw.port, session)
    assert (call["status"], call["ending"]) == (None, "client_disconnected")
    assert call["delivered"]["client_disconnected"] is True
    assert call["response"]["error"]["code"] == "client_disconnected"
    assert "after 10 of 100000 body bytes" in call["response"]["error"]["message"]
    assert call["body"] == '{"model": '  # what arrived
    assert journal(gw.port, session=session, status="null") == [call]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert gw.state.problems == []


def test_serve_prints_nothing_on_stderr_for_refusals_and_a_client_leaving() -> None:
    """`mockgw serve` as CI runs it, with the connection flags: stderr stays empty, the process exits 0."""
    flags = ["--header-timeout", "5", "--idle-timeout", "5", "--max-connections", "50"]
    process = subprocess.Popen(
        [sys.executable, "-m", "mockgw", "serve", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        found = URL_LINE.search(process.stdout.readline())
        assert found
        port = int(found.group(1))
        session = uuid.uuid4().hex
        _leave_mid_upload(port, session)
        for case in CASES:
            assert exchange(port, case[1](session)).status == case[2], case[0]
        assert exchange(port, b"GARBAGE\r\n\r\n").status == 400
        with pytest.raises(openai.NotFoundError):  # and a real client meanwhile
            openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v2", api_key=API_KEY, max_retries=0).models.list()
        assert _journaled(port, session)[0]["ending"] == "client_disconnected"
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert err == ""
    assert process.returncode == 0


def test_the_first_bytes_of_a_request_say_what_they_can() -> None:
    assert read_head(None) == Head()
    head = read_head(b"POST /s/job-3/v1/chat%20x?y=1 HTTP/1.1\r\nHost: a\r\nX-Mockgw-Session: other\r\nX-Cut: par")
    assert (head.method, head.path, head.headers) == (
        "POST",
        "/s/job-3/v1/chat x",
        (("Host", "a"), ("X-Mockgw-Session", "other")),  # the incomplete last line is left out
    )
    raw = head.request()
    assert (raw.path, raw.session) == ("/v1/chat x", "job-3")  # the session in the path wins, as the routes do
    long = read_head(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n")
    assert long.path == "/" + "a" * 1023 + "..." and long.line_length == 5014 and long.line_complete
    assert not read_head(b"GET /" + b"a" * 100).line_complete
