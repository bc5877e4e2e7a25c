"""The fast path (server/fast.py) sends the bytes aiohttp's handler sends, and journals the same calls.

Two servers with the same seed and fixtures, one with `fast_path: false`, get the same requests in the same order
on one keep-alive connection each; their answers must be equal byte for byte (but the Date header and the
`created` times), and so must their journals (but times and durations). Real clients then drive the fast path.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from mockgw.server import connections
from mockgw.server.plain_head import PlainRequest, read_plain
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY, handle_on

FIXTURES = """\
version: 1
fixtures:
  - name: with-headers
    match: {last_user_message: headers}
    reply: {content: with headers, headers: {X-Request-Id: req-7, X-Trace: abc}}
  - name: own-header  # a header aiohttp sets itself: the usual way decides
    match: {last_user_message: cache}
    reply: {content: cached, headers: {Cache-Control: max-age=5}}
  - name: overloaded
    match: {last_user_message: overloaded}
    reply: {error: {status: 529}}
  - name: limited
    match: {last_user_message: limited}
    reply: {error: {status: 429, retry_after: 3}}
  - name: slow
    match: {last_user_message: slow}
    reply: {content: slow, delay_ms: 20}
  - name: paced
    match: {last_user_message: paced}
    reply: {content: one two three, chunk_ms: 5}
  - name: cut
    match: {last_user_message: cut}
    reply: {content: one two three four, fault: {type: cut, after_events: 2}}
"""

CHAT = "/v1/chat/completions"
KEY = {"Authorization": f"Bearer {API_KEY}"}


def chat(text: str, **more: Any) -> dict[str, Any]:
    return {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": text}], **more}


def messages(text: str, **more: Any) -> dict[str, Any]:
    return {
        "model": "anthropic/claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": text}],
        **more,
    }


# (method, path, body, extra headers): answered both ways on each server, in this order
REQUESTS: list[tuple[str, str, Any, dict[str, str]]] = [
    ("POST", CHAT, chat("hello"), KEY),
    ("POST", CHAT, chat("hello", stream=True, stream_options={"include_usage": True}), KEY),
    ("POST", CHAT, chat("headers"), KEY),
    ("POST", CHAT, chat("headers", stream=True), KEY),
    ("POST", CHAT, chat("cache"), KEY),
    ("POST", CHAT, chat("overloaded"), KEY),
    ("POST", CHAT, chat("limited"), KEY),
    ("POST", CHAT, chat("slow"), KEY),
    ("POST", CHAT, chat("paced", stream=True), KEY),
    ("POST", CHAT, chat("cut", stream=True), {**KEY, "Connection": "close"}),
    ("POST", CHAT, chat("hello", tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}]), KEY),
    ("POST", CHAT, b'{"model": "openai/gpt-4o", "messages": [', KEY),
    ("POST", CHAT, {"model": "openai/gpt-4o"}, KEY),
    ("POST", CHAT, chat("hello"), {}),
    ("POST", CHAT, chat("hello") | {"model": "nobody/none"}, KEY),
    ("POST", CHAT, chat("x" * 3000), KEY),  # over max_body_bytes
    ("POST", CHAT + "/", chat("trailing slash"), KEY),
    ("POST", CHAT + "?a=1", chat("query"), KEY),
    ("PUT", CHAT, chat("method"), KEY),
    ("GET", "/v1/models", None, KEY),
    ("POST", "/v1/messages", messages("hello"), KEY),
    ("POST", "/v1/messages", messages("hello", stream=True), KEY),
    ("POST", "/v1/messages/count_tokens", messages("hello"), KEY),
    ("POST", "/v1/responses", {"model": "openai/gpt-4o", "input": "hello"}, KEY),
    ("POST", "/v1/responses", {"model": "openai/gpt-4o", "input": "hello", "stream": True}, KEY),
    ("POST", "/v1/unknown", chat("hello"), KEY),
]
CLOSES = 9  # the index of the request that asks for `Connection: close` (a new connection follows)


def _request(method: str, path: str, body: Any, headers: dict[str, str]) -> bytes:
    data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (head + f"Content-Length: {len(data)}\r\n\r\n").encode() + data


def _read_answer(sock: socket.socket, buffer: bytearray) -> bytes:
    """One whole answer (Content-Length, chunked, or until the server closes) off a keep-alive connection."""

    def fill() -> bool:
        data = sock.recv(65536)
        buffer.extend(data)
        return bool(data)

    while b"\r\n\r\n" not in buffer:
        if not fill():
            return _take(buffer, len(buffer))
    end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:end]).lower()
    length = re.search(rb"\r\ncontent-length: (\d+)", head)
    if length is not None:
        while len(buffer) < end + int(length.group(1)):
            fill()
        return _take(buffer, end + int(length.group(1)))
    if b"transfer-encoding: chunked" in head:
        while not buffer.endswith(b"\r\n0\r\n\r\n") and buffer[end:] != b"0\r\n\r\n":
            if not fill():
                break
        return _take(buffer, len(buffer))
    while fill():
        pass
    return _take(buffer, len(buffer))


def _take(buffer: bytearray, size: int) -> bytes:
    taken = bytes(buffer[:size])
    del buffer[:size]
    return taken


def _masked(answer: bytes) -> bytes:
    """The answer (or journal) without its clock: the Date header and the `created` times, also where an answer's
    body is a string inside the journal's JSON (`\\"created\\":`): the two servers may answer a second apart."""
    answer = re.sub(rb"\r\nDate: [^\r]+", b"\r\nDate: -", answer)
    return re.sub(rb'(\\?"(?:created|created_at)\\?": ?)\d+', rb"\g<1>0", answer)


def _answers(port: int, requests: list[tuple[str, str, Any, dict[str, str]]]) -> list[bytes]:
    answers = []
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    buffer = bytearray()
    try:
        for index, (method, path, body, headers) in enumerate(requests):
            sock.sendall(_request(method, path, body, headers))
            answers.append(_masked(_read_answer(sock, buffer)))
            if index == CLOSES:
                sock.close()
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                buffer.clear()
    finally:
        sock.close()
    return answers


@pytest.fixture
def both(tmp_path: Path, gateway_factory: Callable[..., MockGateway]) -> Iterator[tuple[MockGateway, MockGateway]]:
    """Two gateways alike but for the fast path: (fast, usual)."""
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text(FIXTURES)
    settings = {"fixtures": (str(fixtures),), "seed": 7, "max_body_bytes": 2000}
    yield gateway_factory(**settings), gateway_factory(**settings, fast_path=False)


def _answered_here(gateway: MockGateway) -> int:
    runner = gateway._runner  # the test looks inside: whether the fast path answered at all
    assert runner is not None and runner.server is not None
    return int(runner.server.answered_here)  # type: ignore[attr-defined]


def test_the_fast_path_sends_the_same_bytes_as_aiohttps_handler(both: tuple[MockGateway, MockGateway]) -> None:
    fast, usual = both
    fast_answers, usual_answers = _answers(fast.port, REQUESTS), _answers(usual.port, REQUESTS)
    for request, fast_answer, usual_answer in zip(REQUESTS, fast_answers, usual_answers, strict=True):
        assert fast_answer == usual_answer, request[:2]
    statuses = [int(answer.split(b" ")[1]) for answer in fast_answers if answer]
    assert statuses[:7] == [200, 200, 200, 200, 200, 529, 429]
    assert b"\r\nX-Request-Id: req-7\r\nX-Trace: abc\r\nContent-Type: application/json\r\n" in fast_answers[2]
    assert fast_answers[9].endswith(b"\r\n")  # the fault cut the stream after two events: no last chunk
    assert not fast_answers[9].endswith(b"0\r\n\r\n")
    assert _answered_here(fast) >= 12  # plain JSON, untimed streams, and the refusals answered whole
    assert _answered_here(usual) == 0


def test_the_fast_path_journals_the_same_calls(both: tuple[MockGateway, MockGateway]) -> None:
    fast, usual = both
    _answers(fast.port, REQUESTS)
    _answers(usual.port, REQUESTS)

    def journal(gateway: MockGateway) -> list[dict[str, Any]]:
        calls = [call.as_json() for call in handle_on(gateway).calls()]
        for call in calls:
            del call["time"], call["duration_ms"]
            call["delivered"].pop("held_ms", None)
        return json.loads(_masked(json.dumps(calls).encode()))

    fast_calls, usual_calls = journal(fast), journal(usual)
    assert len(fast_calls) == len(REQUESTS)
    assert fast_calls == usual_calls
    assert [call["status"] for call in fast_calls][:3] == [200, 200, 200]
    assert fast_calls[1]["delivered"]["events"] == usual_calls[1]["delivered"]["events"] > 3


def test_pipelined_and_split_requests_are_answered_in_order(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(seed=3)
    first, second = _request("POST", CHAT, chat("one"), KEY), _request("POST", CHAT, chat("two"), KEY)
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        buffer = bytearray()
        sock.sendall(first + second)  # two requests in one segment: aiohttp's queue answers them
        answers = [_read_answer(sock, buffer), _read_answer(sock, buffer)]
        head, body = first.split(b"\r\n\r\n", 1)
        sock.sendall(head + b"\r\n\r\n" + body[:10])  # a body in two pieces: the usual way reads the rest
        sock.sendall(body[10:])
        answers.append(_read_answer(sock, buffer))
        sock.sendall(second)  # whole again: the fast path
        answers.append(_read_answer(sock, buffer))
    contents = [json.loads(answer.split(b"\r\n\r\n", 1)[1])["choices"][0]["message"]["content"] for answer in answers]
    assert all(answer.startswith(b"HTTP/1.1 200 OK\r\n") for answer in answers)
    calls = handle_on(gateway).calls()
    assert [call.last_user_message for call in calls] == ["one", "two", "one", "two"]
    assert [call.response["content"] for call in calls] == contents  # type: ignore[index]


def test_real_clients_through_the_fast_path(gateway_factory: Callable[..., MockGateway], tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text(FIXTURES)
    gateway = gateway_factory(fixtures=(str(fixtures),))
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "headers"}]
    )
    assert raw.headers["x-request-id"] == "req-7"
    assert raw.parse().choices[0].message.content == "with headers"
    streamed = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(streamed)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "limited"}])
    assert limited.value.response.headers["retry-after"] == "3"
    claude = anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0)
    with claude.messages.stream(
        model="anthropic/claude-haiku-4-5", max_tokens=64, messages=[{"role": "user", "content": "hello"}]
    ) as stream:
        assert stream.get_final_text()
    assert _answered_here(gateway) == 4
    calls = handle_on(gateway).calls()
    assert [call.status for call in calls] == [200, 200, 429, 200]
    assert calls[1].delivered["completed"] is True  # type: ignore[index]


def test_a_client_leaving_mid_body_is_journaled_the_same_both_ways(both: tuple[MockGateway, MockGateway]) -> None:
    request = _request("POST", CHAT, chat("hello"), KEY)
    cut = request.index(b"\r\n\r\n") + 4 + 20  # the head and 20 body bytes, then the client leaves
    for gateway in both:
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
            sock.sendall(request[:cut])
        deadline = time.monotonic() + 10
        while not handle_on(gateway).calls() and time.monotonic() < deadline:  # the server sees the close soon
            time.sleep(0.01)
    fast_call, usual_call = (handle_on(gateway).calls()[0] for gateway in both)
    assert fast_call.status is None and fast_call.ending == "client_disconnected"
    assert fast_call.response == usual_call.response
    assert fast_call.response["error"]["message"].startswith("The client closed the connection after 20 of ")  # type: ignore[index]
    assert fast_call.delivered == usual_call.delivered


def test_requests_read_without_aiohttps_parser_are_answered_and_journaled_alike(
    both: tuple[MockGateway, MockGateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole plain requests skip aiohttp's parser (server/plain_head.py): with header names as httpx sends them
    (lower case), the answers and the journal are still those of aiohttp's handler, also for the requests whose
    answer then goes the usual way (a fault, a delay, a refusal)."""
    read = []

    def counted(data: bytes) -> PlainRequest | None:
        plain = read_plain(data)
        read.append(plain is not None)
        return plain

    monkeypatch.setattr(connections, "read_plain", counted)
    lowered = [
        (method, path, body, {name.lower(): value for name, value in headers.items()})
        for method, path, body, headers in REQUESTS
    ]

    def answers(port: int) -> list[bytes]:
        with monkeypatch.context() as m:
            m.setattr(sys.modules[__name__], "_request", _lowered_request)
            return _answers(port, lowered)

    fast, usual = both
    assert answers(fast.port) == answers(usual.port)
    assert read.count(True) >= 20  # every whole request on an API route, but those over max_body_bytes' limit
    fast_calls = [call.as_json() for call in handle_on(fast).calls()]
    usual_calls = [call.as_json() for call in handle_on(usual).calls()]
    assert [call["headers"] for call in fast_calls] == [call["headers"] for call in usual_calls]


def _lowered_request(method: str, path: str, body: Any, headers: dict[str, str]) -> bytes:
    data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (head + f"content-length: {len(data)}\r\n\r\n").encode() + data
