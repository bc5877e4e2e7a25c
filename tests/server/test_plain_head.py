"""server/plain_head.py reads a whole plain request exactly as aiohttp's parser does, and leaves it anything else.

The property: whatever bytes come, when `read_plain` reads them, aiohttp's own request parser (the C one the server
uses, with the server's limits) reads one request from the same bytes, without error, with the same method, target,
headers (names as aiohttp spells them, values, order), body and keep-alive. The heads are generated from the parts
that make parsers differ: header names aiohttp knows in any case, repeated headers, framing headers, spacing, values
with tabs, trailing spaces or non-ASCII, bodies shorter or longer than their `Content-Length`, extra bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import HttpRequestParser, RawRequestMessage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockgw.server.plain_head import read_plain

# what a client of the fast path sends: the openai SDK's head (httpx), whole, with its body
SDK_HEAD = (
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept-Encoding: gzip, deflate\r\n"
    b"Connection: keep-alive\r\nAccept: application/json\r\nContent-Type: application/json\r\n"
    b"User-Agent: OpenAI/Python 1.54.0\r\nX-Stainless-Lang: python\r\nAuthorization: Bearer sk-edgee-test\r\n"
    b"Content-Length: 2\r\n\r\n{}"
)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def aiohttp_reads(data: bytes, loop: asyncio.AbstractEventLoop) -> tuple[Any, ...] | str:
    """What aiohttp's request parser makes of `data`, as the server's connection makes it (its limits): one whole
    request as (method, path, headers, body, should_close), or why not."""
    parser = HttpRequestParser(
        BaseProtocol(loop), loop, 2**16, max_line_size=8190, max_field_size=8190, max_headers=128
    )
    try:
        messages, upgraded, tail = parser.feed_data(data)
    except HttpProcessingError as exc:
        return f"refused: {exc!r}"
    if len(messages) != 1 or upgraded or tail:
        return f"{len(messages)} messages"
    message, payload = messages[0]
    assert isinstance(message, RawRequestMessage)
    if not payload.is_eof():
        return "body incomplete"
    return (
        message.method,
        message.path,
        [(str(name), value) for name, value in message.headers.items()],
        payload.read_nowait(),
        message.should_close,
    )


def plain_reads(data: bytes) -> tuple[Any, ...] | None:
    plain = read_plain(data)
    if plain is None:
        return None
    headers = [(str(name), value) for name, value in plain.headers.items()]
    return (plain.method, plain.path, headers, plain.body, plain.should_close)


def mostly(plain: list[Any], other: list[Any]) -> st.SearchStrategy[Any]:
    """Mostly one of `plain`, now and then one of `other`: most requests plain, each odd part now and then."""
    return st.sampled_from(plain * 6 + other)


NAMES = mostly(
    ["Content-Type", "content-type", "User-Agent", "Authorization", "authorization", "X-Edgee-Tags", "Accept",
     "x-edgee-session", "X-Custom_Name", "Connection", "connection"],
    ["Host", "HOST", "Content-Length", "Transfer-Encoding", "Content-Encoding", "Expect", "Upgrade",
     "Proxy-Connection", "ETag", "Server", "Bad Name", "Sec-WebSocket-Key1", ""],
)  # fmt: skip
VALUES = mostly(
    ["application/json", "keep-alive", "close", "Close", "abc", "a b", "x" * 40, "127.0.0.1:8080", ""],
    ["upgrade", "chunked", "gzip", "100-continue", "2", "02", "+2", " leading", "trailing ", "tab\there",
     "caf\u00e9", "nul\x00", "line\nbreak"],
)  # fmt: skip
SEPARATORS = mostly([": ", ":"], [":  ", " : ", ":\t"])


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    method = draw(mostly(["POST", "GET"], ["PUT", "DELETE", "post", "CONNECT", "HEAD", "OPTIONS"]))
    target = draw(mostly(["/v1/chat/completions", "/v1/models", "/a?b=1"], ["/\u00e9", "*", "/a b", "/a\tb"]))
    version = draw(mostly(["HTTP/1.1"], ["HTTP/1.0", "HTTP/2", "http/1.1"]))
    body = draw(st.sampled_from([b"", b"{}", b'{"a":1}']))
    headers = draw(st.lists(st.tuples(NAMES, SEPARATORS, VALUES), max_size=6))
    if draw(mostly([True], [False])):
        headers.insert(draw(st.integers(0, len(headers))), ("Host", ": ", "127.0.0.1"))
    if body or draw(st.booleans()):
        length = len(body) + draw(mostly([0], [-1, 1]))
        headers.append(("Content-Length", ": ", str(max(length, 0))))
    head = f"{method} {target} {version}\r\n" + "".join(f"{n}{s}{v}\r\n" for n, s, v in headers) + "\r\n"
    extra = draw(mostly([b""], [b"GET / HTTP/1.1\r\n", b"x", b"\r\n"]))
    return head.encode() + body + extra


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=requests())
def test_what_is_read_plain_is_what_aiohttp_reads(data: bytes, loop: asyncio.AbstractEventLoop) -> None:
    plain = plain_reads(data)
    if plain is not None:
        assert aiohttp_reads(data, loop) == plain


def test_a_clients_request_is_read_plain_with_aiohttps_header_names(loop: asyncio.AbstractEventLoop) -> None:
    lowered = SDK_HEAD.replace(b"Content-Type", b"content-type").replace(b"Host", b"host")
    for data in (SDK_HEAD, lowered):
        plain = plain_reads(data)
        assert plain is not None
        assert plain == aiohttp_reads(data, loop)
    headers = dict(plain[2])  # aiohttp's spelling of the names it knows, as sent for the others
    assert "Content-Type" in headers and "Host" in headers and "X-Stainless-Lang" in headers
    assert plain[3] == b"{}" and plain[4] is False
    closing = plain_reads(SDK_HEAD.replace(b"Connection: keep-alive", b"Connection: close"))
    assert closing is not None and closing[4] is True
    get = plain_reads(b"GET /v1/models HTTP/1.1\r\nHost: h\r\n\r\n")  # no body, no Content-Length
    assert get == ("GET", "/v1/models", [("Host", "h")], b"", False)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ((b"HTTP/1.1\r\n", b"HTTP/1.0\r\n"), "another version"),
        ((b"Content-Length: 2\r\n", b"Transfer-Encoding: chunked\r\n"), "another framing"),
        ((b"Content-Length: 2\r\n", b"Content-Length: 2\r\nContent-Length: 2\r\n"), "a second Content-Length"),
        ((b"Host: 127.0.0.1:8080\r\n", b""), "no Host"),
        ((b"Host: 127.0.0.1:8080\r\n", b"Host: a\r\nHost: b\r\n"), "a second Host"),
        ((b"Connection: keep-alive", b"Connection: upgrade"), "another Connection"),
        ((b"Connection: keep-alive", b"Connection: keep-alive\r\nConnection: close"), "a second Connection"),
        ((b"Accept: application/json", b"Expect: 100-continue"), "Expect"),
        ((b"Accept: application/json", b"Content-Encoding: gzip"), "an encoded body"),
        ((b"Accept: application/json", b"Accept: application/json "), "a trailing space"),
        ((b"Accept: application/json", b"Accept: caf\xc3\xa9"), "a value not ASCII"),
        ((b"Accept: application/json", b"Accept:\tapplication/json"), "a tab"),
        ((b"Accept: application/json", b"Accept: a\r\n b"), "a folded line"),
        ((b"\r\n\r\n{}", b"\r\n\r\n{"), "a body still coming"),
        ((b"\r\n\r\n{}", b"\r\n\r\n{}GET"), "bytes after the body"),
        ((b"\r\n\r\n{}", b"\r\n"), "a head still coming"),
    ],
)
def test_anything_but_a_plain_whole_request_is_left_to_aiohttp(change: tuple[bytes, bytes], why: str) -> None:
    data = SDK_HEAD.replace(*change)
    assert data != SDK_HEAD, why
    assert read_plain(data) is None, why


def test_a_head_over_aiohttps_line_limit_or_with_many_headers_is_left_to_aiohttp() -> None:
    long_value = SDK_HEAD.replace(b"Accept: application/json", b"Accept: " + b"a" * 8200)
    many = SDK_HEAD.replace(b"Accept: application/json", b"\r\n".join(b"X-%d: v" % n for n in range(101)))
    assert read_plain(long_value) is None
    assert read_plain(many) is None
    assert read_plain(SDK_HEAD.replace(b"Accept: application/json", b"\r\n".join(b"X-%d: v" % n for n in range(90))))
