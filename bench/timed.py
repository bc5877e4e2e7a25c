"""`stream-1000-timed`: 1,000 concurrent paced streams against one mockgw on one core.

Each stream is the `bench-timed-1000` fixture: 30 events, 20 ms apart (`chunk_ms: 20`), so its script lasts
29 x 20 = 580 ms. All streams start at once from one asyncio client (aiohttp, on the load core, one connection
each). Per stream: time to headers (request sent to the response's status and headers) and duration (request
sent to the end of the body) over the script's duration. A stream that cannot connect, is cut short or gets a
non-200 counts as refused.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

TAG = "timed1000"
CHUNK_MS = 20.0
TTFT_MS = 0.0


@dataclass(frozen=True)
class StreamTimes:
    """One stream, seen from the client."""

    headers_ms: float
    duration_ms: float
    events: int


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
            tail = b""
            async for chunk in resp.content.iter_any():  # counting events costs the client little
                data = tail + chunk
                events += data.count(b"\n\n")
                tail = data[data.rfind(b"\n\n") + 2 :] if b"\n\n" in data else data
            ended = time.perf_counter()
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return type(exc).__name__
    return StreamTimes((got_headers - sent) * 1000, (ended - sent) * 1000, events)


async def run_streams(port: int, path: str, body: bytes, headers: dict[str, str], streams: int) -> dict[str, Any]:
    """`streams` streams at once; the times of the complete ones and why the others failed."""
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


def summarise(outcome: dict[str, Any], events: int) -> dict[str, Any]:
    """The numbers the issue asks for: duration/script p50 and p99, headers p50 and p99, refused."""
    done: list[StreamTimes] = outcome["done"]
    complete = [s for s in done if s.events == events]
    cut = len(done) - len(complete)
    script = script_ms(events)
    ratios = [s.duration_ms / script for s in complete]
    heads = [s.headers_ms for s in complete]
    return {
        "streams": len(done) + sum(outcome["failures"].values()),
        "complete": len(complete),
        "refused": sum(outcome["failures"].values()) + cut,
        "failures": {**outcome["failures"], **({"cut short": cut} if cut else {})},
        "script_ms": script,
        "duration_ratio_p50": round(pct(ratios, 50), 3),
        "duration_ratio_p99": round(pct(ratios, 99), 3),
        "duration_ratio_max": round(max(ratios), 3) if ratios else float("nan"),
        "headers_ms_p50": round(pct(heads, 50), 1),
        "headers_ms_p99": round(pct(heads, 99), 1),
        "headers_ms_max": round(max(heads), 1) if heads else float("nan"),
        "wall_s": round(outcome["wall_s"], 3),
    }
