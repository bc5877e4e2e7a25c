"""Memory is bounded, and reading is cheap (issue 11, item 4).

Sessions are dropped when stale, reset and `DELETE /__mockgw/calls` give memory back, the journal's byte cap counts
headers, and `GET /__mockgw/calls` pages and never holds the server. Memory is measured from outside where it can
be (the RSS of a `mockgw serve` process), and the work of a read as the calls it made.
"""

from __future__ import annotations

import asyncio
import gc
import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import openai
import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from mockgw.fixtures.load import parse_json_payload
from mockgw.gateway import pipeline
from mockgw.gateway.config import Settings
from mockgw.gateway.outcome import RawRequest
from mockgw.gateway.state import GatewayState
from mockgw.journal.calls import Call
from mockgw.server.app import make_app, record
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY
from tests.support.rawhttp import journal, request
from tests.support.serve import mockgw_process, rss_mib

MODEL = "openai/gpt-4o"


def hello(text: str = "hello") -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}]}


class Connection:
    """One keep-alive connection: thousands of requests without a handshake each."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def send(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> bytes:
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        sent = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json", **(headers or {})}
        self.connection.request(method, path, body=data, headers=sent)
        response = self.connection.getresponse()
        answer = response.read()
        assert response.status in (200, 201), answer[:300]
        return answer

    def close(self) -> None:
        self.connection.close()


@contextmanager
def served(tmp_path: Path, config: str = "") -> Iterator[tuple[int, Callable[[], float]]]:
    """`mockgw serve` with a config file; yields its port and a function giving its RSS in MiB."""
    path = tmp_path / "mockgw.yaml"
    path.write_text(config or "{}\n")
    with mockgw_process("--config", str(path)) as (url, process):
        yield urllib.parse.urlsplit(url).port or 0, lambda: rss_mib(process)


def own_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line")


# --- sessions ------------------------------------------------------------------------------------------------------


def test_sessions_in_use_keep_their_state_while_stale_ones_are_dropped(
    gateway_factory: Callable[..., MockGateway],
) -> None:
    gateway = gateway_factory(session_limit=2)

    def client(session: str) -> openai.OpenAI:
        headers = {"X-Mockgw-Session": session}
        return openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0, default_headers=headers)

    refund = {"name": "refund", "match": {"last_user_message": "refund"}, "reply": {"content": "On its way."}}
    for session in ("a", "b"):
        added = request(gateway.port, "POST", "/__mockgw/fixtures", refund, {"X-Mockgw-Session": session}, key=None)
        assert added.status == 201
    a, b, c = client("a"), client("b"), client("c")
    ask = {"model": MODEL, "messages": [{"role": "user", "content": "refund"}]}
    assert b.chat.completions.create(**ask).choices[0].message.content == "On its way."
    assert a.chat.completions.create(**ask).choices[0].message.content == "On its way."  # "a" used after "b"
    c.chat.completions.create(**ask)  # a third session: "b", the least recently used, is dropped
    streamed = "".join(
        chunk.choices[0].delta.content or "" for chunk in a.chat.completions.create(**ask, stream=True) if chunk.choices
    )
    assert streamed == "On its way."  # "a" still has its fixture
    assert b.chat.completions.create(**ask).choices[0].message.content != "On its way."  # "b" came back fresh
    assert [call["fixture"] for call in journal(gateway.port, session="b")] == ["refund", None]  # its calls stay
    assert gateway.state.sessions.dropped == 2  # "b", then "c" to make room for "b"


def test_100000_sessions_keep_memory_bounded() -> None:
    """A new session per request, 100,000 of them, through the pipeline and the journal hook, in process.

    The issue's 1,000,000 requests over sockets take minutes: `bench/soak_sessions.py` runs them against a real
    `mockgw serve` (docs/bench.md). Here each request takes the same path minus the socket, and a fixture answers
    (as in a test suite), so the 100,000 sessions take seconds. Unbounded, they grew this process by ~200 MiB."""
    fixture = {"name": "hi", "match": {"last_user_message": "hello"}, "reply": {"content": "Hi."}}
    settings = replace(Settings(), rate_limit={"requests_per_minute": 1000})  # every session gets its own window
    state = GatewayState(settings, fixtures=parse_json_payload(fixture))
    app = make_app(state)
    body = orjson.dumps(hello())
    before = own_rss_mib()
    for index in range(100_000):
        headers = {"Authorization": f"Bearer {API_KEY}", "X-Mockgw-Session": f"test-{index}"}
        raw = RawRequest.received("POST", "/v1/chat/completions", CIMultiDictProxy(CIMultiDict(headers)), body)
        outcome = pipeline.handle_completion(state, raw)
        assert outcome.status == 200
        record(app, raw, outcome, time.perf_counter())
    grown = own_rss_mib() - before
    assert len(state.sessions) == settings.session_limit == 10_000
    assert state.sessions.dropped == 90_000
    assert len(state.rate_limiter._history) == 10_000
    assert len(state.journal) == settings.journal_limit
    assert grown < 60, f"RSS grew by {grown:.0f} MiB over 100,000 sessions"


# --- reset and DELETE give memory back -----------------------------------------------------------------------------


def test_reset_and_delete_calls_give_the_memory_back(tmp_path: Path) -> None:
    with served(tmp_path) as (port, rss):
        connection = Connection(port)
        start = rss()
        for index in range(40):  # 40 MiB of bodies, 40 sessions, each with a run-time fixture
            session = {"X-Mockgw-Session": f"job-{index}"}
            fixture = {"name": f"f{index}", "match": {"last_user_message": "never"}, "reply": {"content": "x"}}
            connection.send("POST", "/__mockgw/fixtures", fixture, session)
            connection.send("POST", "/v1/chat/completions", hello(f"{index:02}" * 500_000), session)
        for _ in range(40):
            connection.send("POST", "/v1/chat/completions", hello("default session"))
        everything = json.loads(connection.send("GET", "/__mockgw/calls?all"))["calls"]  # made: the peak
        assert len(everything) == 80
        del everything
        peak = rss()
        for index in range(40):  # what a pytest plugin does after each test, on a shared server
            connection.send("POST", "/__mockgw/reset", headers={"X-Mockgw-Session": f"job-{index}"})
        connection.send("DELETE", "/__mockgw/calls")
        assert json.loads(connection.send("GET", "/__mockgw/calls?all"))["calls"] == []
        sessions = json.loads(connection.send("GET", "/__mockgw/sessions"))["sessions"]
        assert [session["name"] for session in sessions] == [""]  # the default one: DELETE keeps its state
        deadline = time.monotonic() + 10  # memory is given back on a thread, right after the answer
        while rss() > start + 0.35 * (peak - start) and time.monotonic() < deadline:
            time.sleep(0.1)
        after = rss()
        connection.close()
    assert peak - start > 40, (start, peak)
    assert after <= start + 0.35 * (peak - start), f"RSS {start:.0f} -> {peak:.0f} -> {after:.0f} MiB"


# --- the journal's byte cap ----------------------------------------------------------------------------------------


def test_a_headers_heavy_journal_stays_under_its_byte_cap(tmp_path: Path) -> None:
    """1,500 requests, each with 20 headers of 8 KB (240 MB in all): the journal keeps what its cap allows."""
    cap = 8 * 1024 * 1024
    heavy = {f"x-filler-{index}": chr(97 + index) * 8000 for index in range(20)}
    with served(tmp_path, f"journal_max_bytes: {cap}\njournal_limit: 5000\n") as (port, rss):
        connection = Connection(port)
        start = rss()
        for _ in range(1500):
            connection.send("POST", "/v1/chat/completions", hello(), heavy)
        answer = connection.send("GET", "/__mockgw/calls")
        grown = rss() - start
        connection.close()
    calls = json.loads(answer)["calls"]
    assert 40 <= len(calls) <= cap // (20 * 8000)  # each call counts its 160 KB of headers
    assert calls[-1]["id"] == "call-1500" and calls[-1]["headers"]["x-filler-0"] == "a" * 8000
    assert len(answer) < 1.2 * cap
    assert grown < 4 * cap / 2**20 + 40, f"RSS grew by {grown:.0f} MiB"


# --- reading is cheap ----------------------------------------------------------------------------------------------


def made(gateway: MockGateway) -> int:
    """How many kept calls have been made (parsed, redacted, summarised) so far."""
    return gateway.run_in_loop(lambda: sum(isinstance(e.item, Call) for e in gateway.state.journal.entries()))


def test_limit_1_on_a_big_journal_costs_one_call(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(journal_limit=5000)
    connection = Connection(gateway.port)
    for index in range(600):
        text = f"{index} " + ("x" * 1_000_000 if index % 100 == 0 else "")
        connection.send("POST", "/v1/chat/completions", hello(text))
    answer = connection.send("GET", "/__mockgw/calls?limit=1")
    connection.close()
    page = json.loads(answer)
    assert [call["id"] for call in page["calls"]] == ["call-600"]
    assert page["next"] == "/__mockgw/calls?limit=1&before=call-600"
    assert len(answer) < 10_000
    assert made(gateway) == 2  # the call returned, and the one that tells there is a next page


def test_the_journal_is_read_page_by_page(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory()
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
    for index in range(25):
        tags = ["even"] if index % 2 == 0 else []
        client.chat.completions.create(**hello(f"message {index}"), extra_headers={"X-Edgee-Tags": ",".join(tags)})
    assert "next" not in request(gateway.port, "GET", "/__mockgw/calls", key=None).json()  # the shape as before

    def pages(path: str | None) -> Iterator[list[str]]:
        while path is not None:
            page = request(gateway.port, "GET", path, key=None).json()
            yield [call["id"] for call in page["calls"]]
            path = page["next"]

    backward = list(pages("/__mockgw/calls?limit=10"))
    assert [len(page) for page in backward] == [10, 10, 5]
    assert [i for page in reversed(backward) for i in page] == [f"call-{n}" for n in range(1, 26)]
    forward = list(pages("/__mockgw/calls?tag=even&limit=5&after=call-0"))
    assert [i for page in forward for i in page] == [f"call-{n}" for n in range(1, 26, 2)]
    assert [len(page) for page in forward] == [5, 5, 3]
    assert request(gateway.port, "GET", "/__mockgw/calls?after=call-20", key=None).json()["calls"][0]["id"] == "call-21"
    wrong = request(gateway.port, "GET", "/__mockgw/calls?after=yesterday", key=None)
    assert wrong.status == 400
    assert (wrong.error["code"], wrong.error["param"]) == ("invalid_request", "after")
    assert "call-12" in wrong.error["message"]


class LoopHeld:
    """The longest the server's loop went without a turn for a 2 ms timer, in the loop thread's CPU time: the work
    that held it, whatever the scheduler did to the process meanwhile."""

    def __init__(self, gateway: MockGateway) -> None:
        self.longest_ms = 0.0
        self.running = True
        self.task = gateway.run_in_loop(lambda: asyncio.ensure_future(self.watch()))

    async def watch(self) -> None:
        while self.running:
            cpu, full = time.thread_time(), full_collections()
            await asyncio.sleep(0.002)
            if full_collections() == full:  # a full collection sweeps the test process's heap, not mockgw's work
                self.longest_ms = max(self.longest_ms, (time.thread_time() - cpu) * 1000)


def full_collections() -> int:
    """How many full (generation 2) garbage collections this process has run, as the watchdog counts them."""
    return int(gc.get_stats()[2]["collections"])


READER = "import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=300).read())"


def test_health_answers_within_100_ms_while_a_full_journal_is_read(gateway_factory: Callable[..., MockGateway]) -> None:
    """Four 3.9 MB bodies and 2,000 other calls: the read is ~50 MB of JSON, made and sent call by call (it held the
    server for 28 s before).

    The bound of 100 ms is asserted on the loop's own CPU time (`LoopHeld`): CI runs this on two busy cores, where the
    scheduler alone can keep a process off the CPU for longer than that, so wall-clock checks of `/__mockgw/health`
    would fail for reasons that are not mockgw's. They are still made, from outside (the reader is another process,
    so that it does not compete with them for the interpreter): every one is answered, half of them within 100 ms
    plus the slowest of 20 checks of the idle server, and none after a second."""
    gateway = gateway_factory(journal_limit=5000)
    port = gateway.port
    connection = Connection(port)
    for index in range(4):
        connection.send("POST", "/v1/chat/completions", hello(f"{index}" + "y" * 3_900_000))
    for index in range(2000):
        connection.send("POST", "/v1/chat/completions", hello(f"small {index}"))
    connection.close()

    def health_ms() -> float:
        started = time.perf_counter()
        assert request(port, "GET", "/__mockgw/health", key=None).status == 200
        return (time.perf_counter() - started) * 1000

    idle = max(health_ms() for _ in range(20))
    held = LoopHeld(gateway)
    reader = subprocess.Popen([sys.executable, "-c", READER, f"{gateway.url}/__mockgw/calls"], stdout=subprocess.PIPE)
    body: list[bytes] = []
    read = threading.Thread(target=lambda: body.append(reader.communicate()[0]))
    read.start()
    checks = []
    while read.is_alive():
        checks.append(health_ms())
        time.sleep(0.01)
    read.join()
    held.running = False
    calls = json.loads(body[0])["calls"]
    assert len(calls) == 2004 and calls[3]["last_user_message"].endswith("y" * 1000)
    assert held.longest_ms < 100, f"the loop was held for {held.longest_ms:.0f} ms of CPU"
    assert len(checks) >= 3, "the read ended before the health checks could overlap it"
    assert sorted(checks)[len(checks) // 2] < 100 + idle, (checks, idle)
    assert max(checks) < 1000, (checks, idle)
