"""Timed streams on the fast path (server/fast_stream.py): headers at once, the body paced by the ticker.

Two servers alike but for `fast_path` get the same requests: the streams' bytes must be equal (but Date and the
`created` times), their journals too (but times and durations), their events must arrive on the script's clock,
and a client leaving mid-stream must be journaled the same. Real clients (the openai SDK) read them.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY, handle_on
from tests.server.test_fast_path import CHAT, KEY, _masked, _read_answer, _request, chat

FIXTURES = """\
version: 1
fixtures:
  - name: paced
    match: {last_user_message: paced}
    reply: {content: one two three four five six, chunk_tokens: 1, chunk_ms: 40}
  - name: first-late
    match: {last_user_message: first late}
    reply: {content: one two three, chunk_tokens: 1, ttft_ms: 60, chunk_ms: 20}
  - name: jittered
    match: {last_user_message: jittered}
    reply: {content: one two three four, chunk_tokens: 1, chunk_ms: {uniform: [5, 30]}}
  - name: slow
    match: {last_user_message: slow}
    reply: {content: one two three four five six seven eight, chunk_tokens: 1, chunk_ms: 1000}
  - name: faulted  # a fault: the usual way
    match: {last_user_message: faulted}
    reply: {content: one two three four, chunk_ms: 10, fault: {type: cut, after_events: 2}}
"""

CLOSE = {**KEY, "Connection": "close"}
# (method, path, body, extra headers): answered on one keep-alive connection per server, in this order
REQUESTS: list[tuple[str, str, Any, dict[str, str]]] = [
    ("POST", CHAT, chat("paced", stream=True), KEY),
    ("POST", CHAT, chat("first late", stream=True, stream_options={"include_usage": True}), KEY),
    ("POST", CHAT, chat("jittered", stream=True), KEY),
    ("POST", CHAT, chat("hello"), KEY),  # a plain answer after a timed stream, on the same connection
    (
        "POST",
        "/v1/messages",
        {
            "model": "anthropic/claude-haiku-4-5",
            "max_tokens": 9,
            "stream": True,
            "messages": [{"role": "user", "content": "paced"}],
        },
        KEY,
    ),
    ("POST", "/v1/responses", {"model": "openai/gpt-4o", "input": "paced", "stream": True}, KEY),
    ("POST", CHAT, chat("faulted", stream=True), KEY),
]
TIMED = 5  # the requests above answered here as timed streams


def _read(sock: socket.socket, buffer: bytearray) -> bytes:
    """One whole answer off a connection: a chunked one read chunk by chunk (a pipelined answer may follow it)."""
    while b"\r\n\r\n" not in buffer:
        buffer.extend(sock.recv(65536))
    end = buffer.index(b"\r\n\r\n") + 4
    if b"\r\ntransfer-encoding: chunked" not in bytes(buffer[:end]).lower():
        return _read_answer(sock, buffer)
    while True:
        while b"\r\n" not in buffer[end:]:
            buffer.extend(sock.recv(65536))
        line = buffer.index(b"\r\n", end)
        size = int(buffer[end:line], 16)
        while len(buffer) < line + 2 + size + 2:
            buffer.extend(sock.recv(65536))
        end = line + 2 + size + 2
        if size == 0:
            answer = bytes(buffer[:end])
            del buffer[:end]
            return answer


def _answers(port: int, requests: list[tuple[str, str, Any, dict[str, str]]]) -> list[bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        buffer = bytearray()
        answers = []
        for method, path, body, headers in requests:
            sock.sendall(_request(method, path, body, headers))
            answers.append(_masked(_read_answer(sock, buffer)))
    return answers


def _calls(gateway: MockGateway) -> list[dict[str, Any]]:
    """The journal, but its times, and the `created` times of the answers it keeps (JSON inside JSON too)."""
    calls = [call.as_json() for call in handle_on(gateway).calls()]
    for call in calls:
        del call["time"], call["duration_ms"]
    return list(json.loads(re.sub(r'(created(?:_at)?)(\\*)": ?[0-9.]+', r'\1\2":0', json.dumps(calls))))


def _answered_here(gateway: MockGateway) -> int:
    runner = gateway._runner  # the test looks inside: whether the fast path answered at all
    assert runner is not None and runner.server is not None
    return int(runner.server.answered_here)  # type: ignore[attr-defined]


@pytest.fixture
def both(tmp_path: Path, gateway_factory: Callable[..., MockGateway]) -> Iterator[tuple[MockGateway, MockGateway]]:
    """Two gateways alike but for the fast path: (fast, usual)."""
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text(FIXTURES)
    settings = {"fixtures": (str(fixtures),), "seed": 11}
    yield gateway_factory(**settings), gateway_factory(**settings, fast_path=False)


def test_a_timed_stream_answered_here_sends_the_usual_ways_bytes_and_journals_the_same_call(
    both: tuple[MockGateway, MockGateway],
) -> None:
    fast, usual = both
    fast_answers, usual_answers = _answers(fast.port, REQUESTS), _answers(usual.port, REQUESTS)
    for request, fast_answer, usual_answer in zip(REQUESTS, fast_answers, usual_answers, strict=True):
        assert fast_answer == usual_answer, request[:3]
    assert all(answer.startswith(b"HTTP/1.1 200 OK\r\n") for answer in fast_answers)
    assert fast_answers[0].endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")
    assert _answered_here(fast) == TIMED + 1  # the timed streams and the plain answer; the fault went the usual way
    assert _answered_here(usual) == 0
    fast_calls, usual_calls = _calls(fast), _calls(usual)
    assert fast_calls == usual_calls
    assert [call["delivered"]["completed"] for call in fast_calls] == [True] * 6 + [False]
    assert fast_calls[0]["delivered"]["events"] == 9  # role, six one-token events, finish, [DONE]
    assert fast_calls[0]["delivered"]["timing"]["chunk_ms"] == 40


def test_connection_close_is_answered_here_then_the_connection_is_closed(
    both: tuple[MockGateway, MockGateway],
) -> None:
    answers: list[list[bytes]] = []
    for gateway in both:
        got = []
        for body in (chat("paced", stream=True), chat("hello")):
            with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
                sock.sendall(_request("POST", CHAT, body, CLOSE))
                got.append(_masked(_read_answer(sock, bytearray())))  # read until the server closes
        answers.append(got)
    fast, usual = answers
    assert fast == usual
    assert all(b"\r\nConnection: close\r\n" in answer for answer in fast)
    assert fast[0].endswith(b"\r\n0\r\n\r\n")
    assert _answered_here(both[0]) == 2
    assert _calls(both[0]) == _calls(both[1])


def test_the_openai_sdk_reads_a_timed_stream_answered_here_on_its_script(
    both: tuple[MockGateway, MockGateway],
) -> None:
    def chunks(gateway: MockGateway) -> tuple[list[str], list[list[float]]]:
        client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
        user: list[ChatCompletionMessageParam] = [{"role": "user", "content": "paced"}]
        got: list[str] = []
        times: list[list[float]] = []
        for _ in range(2):  # twice on the client's one keep-alive connection
            sent = time.monotonic()
            times.append([])
            for chunk in client.chat.completions.create(model="openai/gpt-4o", messages=user, stream=True):
                times[-1].append(time.monotonic() - sent)
                got.append(chunk.model_dump_json(exclude={"created"}))
        return got, times

    fast, usual = both
    got, times = chunks(fast)
    expected, _ = chunks(usual)
    assert got == expected
    assert _answered_here(fast) == 2
    text = "".join(
        json.loads(c)["choices"][0]["delta"].get("content") or "" for c in got[:8] if json.loads(c)["choices"]
    )
    assert text == "one two three four five six"
    # the role chunk at once, then a chunk every 40 ms on the stream's clock, which starts after the request was
    # sent: counted from the request, none is early (2 ms for the loop's clock, which counts whole milliseconds)
    for stream in times:
        assert all(at >= 0.04 * number - 0.002 for number, at in enumerate(stream)), stream
    calls = handle_on(fast).calls()
    assert [call.delivered["completed"] for call in calls] == [True, True]  # type: ignore[index]


def test_a_client_leaving_a_timed_stream_answered_here_is_journaled_as_the_usual_way_does(
    both: tuple[MockGateway, MockGateway],
) -> None:
    for gateway in both:
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
            sock.sendall(_request("POST", CHAT, chat("slow", stream=True), KEY))
            received = b""
            while b"\n\n" not in received:  # the headers and the first event (the role chunk), then leave
                received += sock.recv(65536)
        deadline = time.monotonic() + 10
        while not handle_on(gateway).calls() and time.monotonic() < deadline:  # journaled once the server sees it
            time.sleep(0.02)
    fast_calls, usual_calls = _calls(both[0]), _calls(both[1])
    assert _answered_here(both[0]) == 1
    assert fast_calls == usual_calls
    delivered = fast_calls[0]["delivered"]
    assert delivered["client_disconnected"] is True
    assert delivered["ending"] == "client_disconnected"
    assert delivered["completed"] is False
    assert delivered["events"] == 1
    assert fast_calls[0]["status"] == 200


def test_a_request_pipelined_behind_a_timed_stream_is_answered_after_it(
    gateway_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text(FIXTURES)
    gateway = gateway_factory(fixtures=(str(fixtures),), seed=2)
    stream, plain = _request("POST", CHAT, chat("paced", stream=True), KEY), _request("POST", CHAT, chat("hi"), KEY)
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        buffer = bytearray()
        sock.sendall(stream + plain)  # in one segment
        first = _read(sock, buffer)
        second = _read(sock, buffer)
        sock.sendall(stream)  # then a stream again, alone
        sock.sendall(plain)  # and a request while it is being written
        third, fourth = _read(sock, buffer), _read(sock, buffer)
    for answer in (first, third):
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")
        assert answer.count(b"data: ") == 9
    for answer in (second, fourth):
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b'"object":"chat.completion"' in answer.replace(b" ", b"")
    assert _answered_here(gateway) == 2  # two requests in one segment go the usual way; then the stream, and the
    # request that came while it was written, here
    calls = handle_on(gateway).calls()
    assert [call.last_user_message for call in calls] == ["paced", "hi", "paced", "hi"]
    assert all(call.status == 200 for call in calls)


def test_a_timed_stream_longer_than_the_idle_timeout_is_not_cut_and_the_timer_starts_again_after_it(
    gateway_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text(FIXTURES)
    gateway = gateway_factory(fixtures=(str(fixtures),), idle_timeout_s=0.15)
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(_request("POST", CHAT, chat("paced", stream=True), KEY))  # 8 x 40 ms: longer than 0.15 s
        answer = _read_answer(sock, bytearray())
        assert answer.endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")
        assert sock.recv(65536) == b""  # then idle: closed by the server (within the socket's 10 s timeout)
    assert _answered_here(gateway) == 1
    assert handle_on(gateway).calls()[0].delivered["completed"] is True  # type: ignore[index]
