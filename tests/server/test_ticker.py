"""The shared ticker that paces every timed write: waiters wake at their deadline, never early, in one pass."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from mockgw.server.runner import MockGateway
from mockgw.server.ticker import Ticker


async def test_waiters_wake_in_deadline_order_and_never_early() -> None:
    ticker = Ticker()
    loop = asyncio.get_running_loop()
    woke: list[tuple[int, float]] = []
    start = loop.time()

    async def waiter(number: int, seconds: float) -> None:
        await ticker.wait(seconds)
        woke.append((number, loop.time() - start))

    await asyncio.gather(*(waiter(n, s) for n, s in [(3, 0.03), (1, 0.01), (2, 0.02), (4, 0.03)]))
    assert [n for n, _ in woke] == [1, 2, 3, 4]
    assert all(at >= seconds for (_, at), seconds in zip(woke, [0.01, 0.02, 0.03, 0.03], strict=True))


async def test_stop_wakes_every_waiter_and_later_waits_end_at_once() -> None:
    ticker = Ticker()
    waiting = [ticker.wait(60) for _ in range(3)]
    ticker.stop()
    await asyncio.wait_for(asyncio.gather(*waiting), 1)
    assert ticker.wait(60).done()


async def test_a_cancelled_waiter_is_dropped_and_the_others_still_wake() -> None:
    ticker = Ticker()
    gone = ticker.wait(0.01)
    gone.cancel()
    await asyncio.wait_for(ticker.wait(0.02), 1)
    assert gone.cancelled()


FIXTURE = """\
version: 1
fixtures:
  - name: paced
    reply:
      content: "one two three four five six seven eight"
      chunk_tokens: 1
      chunk_ms: {chunk_ms}
"""


def _stream(gateway: MockGateway) -> tuple[bytes, list[float]]:
    """The raw stream and the time each event arrived (from the first), read as a client reads it."""
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    events, times = b"", []
    with (
        httpx.Client(timeout=30) as client,
        client.stream(
            "POST", gateway.base_url + "/chat/completions", json=body, headers={"Authorization": "Bearer sk-test"}
        ) as answer,
    ):
        for line in answer.iter_lines():
            if line:
                events += line.encode() + b"\n\n"
                times.append(time.monotonic())
    return re.sub(rb'"created":\d+', b'"created":0', events), [t - times[0] for t in times]


def test_a_paced_stream_sends_the_same_bytes_at_its_scripted_times(
    tmp_path: Path, gateway_factory: Callable[..., MockGateway]
) -> None:
    paced, unpaced = tmp_path / "paced.yaml", tmp_path / "unpaced.yaml"
    paced.write_text(FIXTURE.format(chunk_ms=40))
    unpaced.write_text(FIXTURE.format(chunk_ms=0))
    events, times = _stream(gateway_factory(fixtures=(str(paced),), seed=3))
    expected, _ = _stream(gateway_factory(fixtures=(str(unpaced),), seed=3))
    assert events == expected
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # the eight content events wait 40 ms each and never less: the server starts each wait after the previous write
    assert sum(gaps[:8]) >= 0.32, gaps
