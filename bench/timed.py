"""`stream-1000-timed`: 1,000 concurrent paced streams against one server on one core.

Each stream is the `bench-timed-1000` fixture: 30 events, 20 ms apart (`chunk_ms: 20`), so its script lasts
29 x 20 = 580 ms. All streams start at once from one client on the load core, one connection each. Per stream:
time to headers (request sent to the response's status line), time to the first event (what a client's TTFT
measure sees; the script has no TTFT, so it is due with the headers) and duration (request sent to the end of the
body) over the script's duration. A stream that cannot connect, is cut short or gets a non-200 counts as refused.

The client is a bare asyncio protocol (`RawClient`, on uvloop), as wrk is for the other scenarios: a pre-built
request written as soon as the connection is up, the status line parsed, event ends (`\\n\\n`) counted. Per stream
it costs a few microseconds, so the figures are the server's. aiohttp's client (`BENCH_TIMED_CLIENT=aiohttp`) costs
some 150-300 us per request in the one client loop: with 1,000 requests at once that alone is 150-300 ms of header
time, whatever the server does (docs/bench.md, "Fifth session").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

TAG = "timed1000"
CHUNK_MS = 20.0
TTFT_MS = 0.0
END = b"\r\n0\r\n\r\n"  # the last chunk of a chunked body


@dataclass(frozen=True)
class StreamTimes:
    """One stream, seen from the client."""

    headers_ms: float
    duration_ms: float
    events: int
    connect_ms: float = 0.0  # connect started to connection up (the client's own connect, and the kernel's)
    first_event_ms: float = 0.0  # request sent to the first event's end


def build_request(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The request's bytes, once for every stream; `Connection: close`: one connection per stream."""
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Stream(asyncio.Protocol):
    """One stream's connection: writes the request when connected, stamps the status line, the first event's end and
    the body's end."""

    __slots__ = (
        "connected",
        "done",
        "ended",
        "events",
        "failure",
        "first_at",
        "head",
        "headers_at",
        "last",
        "request",
        "started",
    )

    def __init__(self, request: bytes, done: Callable[[_Stream], None]) -> None:
        self.request = request
        self.done = done
        self.started = time.perf_counter()
        self.connected = 0.0
        self.headers_at = 0.0
        self.first_at = 0.0
        self.ended = 0.0
        self.events = 0
        self.head = b""
        self.last = b""  # the last bytes read: an event end or the body's end split between two reads
        self.failure = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connected = time.perf_counter()
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if not self.headers_at:
            head = self.head + data
            end = head.find(b"\r\n\r\n")
            if end < 0:
                self.head = head
                return
            self.headers_at = time.perf_counter()
            if head[9:12] != b"200":
                self.failure = f"status {head[9:12].decode()}"
            data = head[end + 2 :]  # keep the head's last CRLF: the first chunk's size line follows it
        seen = self.last + data
        self.events += seen.count(b"\n\n") - self.last.count(b"\n\n")
        if self.events and not self.first_at:
            self.first_at = time.perf_counter()
        self.last = seen[-len(END) :]
        if self.last == END and not self.ended:
            self.ended = time.perf_counter()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ended:
            self.failure = self.failure or ("cut short" if self.headers_at else type(exc or EOFError()).__name__)
        self.done(self)

    def times(self) -> StreamTimes | str:
        if self.failure:
            return self.failure
        return StreamTimes(
            (self.headers_at - self.connected) * 1000,
            (self.ended - self.connected) * 1000,
            self.events,
            (self.connected - self.started) * 1000,
            (self.first_at - self.connected) * 1000,
        )


async def run_raw(port: int, path: str, body: bytes, headers: dict[str, str], streams: int) -> dict[str, Any]:
    """`streams` streams at once on bare protocols: every connect is started in one pass of the loop."""
    loop = asyncio.get_running_loop()
    request = build_request(port, path, body, {**headers, "X-Edgee-Tags": TAG})
    finished: list[_Stream] = []
    all_done = loop.create_future()

    def done(stream: _Stream) -> None:
        finished.append(stream)
        if len(finished) == streams and not all_done.done():
            all_done.set_result(None)

    async def connect(stream: _Stream) -> None:
        try:
            await loop.create_connection(lambda: stream, "127.0.0.1", port)
        except OSError as exc:
            stream.failure = type(exc).__name__
            done(stream)

    started = time.perf_counter()
    tasks = [loop.create_task(connect(_Stream(request, done))) for _ in range(streams)]
    await asyncio.wait_for(all_done, 120)
    wall = time.perf_counter() - started
    await asyncio.gather(*tasks)
    results = [s.times() for s in finished]
    return _outcome(results, wall)


async def _one(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str], go: asyncio.Event
) -> StreamTimes | str:
    await go.wait()
    sent = time.perf_counter()
    try:
        async with session.post(url, data=body, headers=headers) as resp:
            got_headers = time.perf_counter()
            if resp.status != 200:
                return f"status {resp.status}"
            events = 0
            first = 0.0
            tail = b""
            async for chunk in resp.content.iter_any():
                data = tail + chunk
                events += data.count(b"\n\n")
                if events and not first:
                    first = time.perf_counter()
                tail = data[data.rfind(b"\n\n") + 2 :] if b"\n\n" in data else data
            ended = time.perf_counter()
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return type(exc).__name__
    return StreamTimes((got_headers - sent) * 1000, (ended - sent) * 1000, events, 0.0, (first - sent) * 1000)


async def run_aiohttp(port: int, path: str, body: bytes, headers: dict[str, str], streams: int) -> dict[str, Any]:
    """The same with aiohttp's client (the fourth session's measure): its own cost is in the figures."""
    url = f"http://127.0.0.1:{port}{path}"
    headers = {**headers, "X-Edgee-Tags": TAG}
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=120)
    go = asyncio.Event()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.ensure_future(_one(session, url, body, headers, go)) for _ in range(streams)]
        await asyncio.sleep(0)  # every task is waiting on `go`: they start together
        started = time.perf_counter()
        go.set()
        results = await asyncio.gather(*tasks)
        wall = time.perf_counter() - started
    return _outcome(list(results), wall)


CLIENTS = {"raw": run_raw, "aiohttp": run_aiohttp}


def _outcome(results: list[StreamTimes | str], wall: float) -> dict[str, Any]:
    done = [r for r in results if isinstance(r, StreamTimes)]
    failures: dict[str, int] = {}
    for r in results:
        if isinstance(r, str):
            failures[r] = failures.get(r, 0) + 1
    return {"done": done, "failures": failures, "wall_s": wall}


def script_ms(events: int) -> float:
    """How long a stream of `events` events lasts by its fixture: the TTFT, then `chunk_ms` before each next one."""
    return TTFT_MS + CHUNK_MS * max(0, events - 1)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def summarise(outcome: dict[str, Any], events: int, script: float | None = None) -> dict[str, Any]:
    """The numbers the issue asks for: duration/script p50 and p99, headers p50 and p99, refused.

    `events`: how many a whole stream has; `script`: how long it lasts by its fixture (by default every event
    paced, `script_ms(events)`; aimock writes its last two at once)."""
    done: list[StreamTimes] = outcome["done"]
    complete = [s for s in done if s.events == events]
    cut = len(done) - len(complete)
    script = script_ms(events) if script is None else script
    ratios = [s.duration_ms / script for s in complete]
    heads = [s.headers_ms for s in complete]
    connects = [s.connect_ms for s in complete]
    firsts = [s.first_event_ms for s in complete]
    return {
        "streams": len(done) + sum(outcome["failures"].values()),
        "complete": len(complete),
        "refused": sum(outcome["failures"].values()) + cut,
        "failures": {**outcome["failures"], **({"wrong event count": cut} if cut else {})},
        "script_ms": script,
        "duration_ratio_p50": round(pct(ratios, 50), 3),
        "duration_ratio_p99": round(pct(ratios, 99), 3),
        "duration_ratio_max": round(max(ratios), 3) if ratios else float("nan"),
        "headers_ms_p50": round(pct(heads, 50), 1),
        "headers_ms_p99": round(pct(heads, 99), 1),
        "headers_ms_max": round(max(heads), 1) if heads else float("nan"),
        "first_event_ms_p50": round(pct(firsts, 50), 1),
        "first_event_ms_p99": round(pct(firsts, 99), 1),
        "connect_ms_p99": round(pct(connects, 99), 1),
        "wall_s": round(outcome["wall_s"], 3),
    }
