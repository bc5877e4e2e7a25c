"""The shared ticker that paces every timed write: waiters wake at their deadline, never early, in one pass."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import openai
import pytest
import uvloop
from hypothesis import given
from hypothesis import strategies as st
from openai.types.chat import ChatCompletionMessageParam

from mockgw.server import inject
from mockgw.server.control import wait_until
from mockgw.server.loop import DUST_S, timer_at, timer_delay
from mockgw.server.runner import MockGateway
from mockgw.server.ticker import FOREVER, Ticker
from tests.conftest import API_KEY
from tests.support.rawhttp import journal


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


class _Every:
    """Steps that note the time they ran at, due every `seconds` until `times` runs are done."""

    def __init__(self, seconds: float, times: int) -> None:
        self.seconds, self.left = seconds, times
        self.ran: list[float] = []
        self.start = asyncio.get_running_loop().time()

    def step(self, now: float) -> float | None:
        self.ran.append(now)
        self.left -= 1
        return None if self.left == 0 or now == FOREVER else self.start + self.seconds * (len(self.ran) + 1)


async def test_steps_run_in_the_pass_at_their_deadlines_never_early() -> None:
    ticker = Ticker()
    loop = asyncio.get_running_loop()
    steps = [_Every(0.01, 4), _Every(0.015, 3)]
    for every in steps:
        ticker.schedule(every.start + every.seconds, every)
    await asyncio.sleep(0.1)
    assert [len(every.ran) for every in steps] == [4, 3]
    for every in steps:
        assert all(at >= every.start + every.seconds * n for n, at in enumerate(every.ran, 1)), every.ran
    assert loop.time() - steps[0].start >= 0.1


async def test_stop_finishes_every_step_at_once_and_later_ones_at_scheduling() -> None:
    ticker = Ticker()
    every = _Every(60, 5)
    ticker.schedule(every.start + 60, every)
    ticker.stop()
    assert every.ran == [FOREVER]
    later = _Every(60, 5)
    ticker.schedule(later.start + 60, later)
    assert later.ran == [FOREVER]


async def test_a_cancelled_waiter_is_dropped_and_the_others_still_wake() -> None:
    ticker = Ticker()
    gone = ticker.wait(0.01)
    gone.cancel()
    await asyncio.wait_for(ticker.wait(0.02), 1)
    assert gone.cancelled()


@given(st.floats(min_value=0, max_value=10**7, allow_nan=False))
def test_a_timer_on_uvloops_clock_is_armed_for_the_first_millisecond_at_or_after_its_deadline(deadline: float) -> None:
    loop = uvloop.new_event_loop()
    try:
        armed, delay = timer_at(loop, deadline), timer_delay(loop, deadline)
    finally:
        loop.close()
    assert deadline - DUST_S <= armed < deadline + 0.001
    assert armed == round(armed * 1000) / 1000  # a whole millisecond, as uvloop's time() says it: its timer fires on it
    assert delay == armed  # a delay from a time on the clock's steps rounds up alike


def test_a_timer_on_asyncios_clock_is_armed_for_its_deadline_itself() -> None:
    loop = asyncio.new_event_loop()
    try:
        assert (timer_at(loop, 12.3456789), timer_delay(loop, 0.0203)) == (12.3456789, 0.0203)
    finally:
        loop.close()


@pytest.mark.parametrize("loop_factory", [uvloop.new_event_loop, asyncio.new_event_loop], ids=["uvloop", "asyncio"])
@pytest.mark.parametrize("seconds", [0.02, 0.0203, 0.0007, 0.015])
def test_a_wait_between_two_milliseconds_takes_one_pass_and_ends_at_its_deadline(
    loop_factory: Callable[[], asyncio.AbstractEventLoop], seconds: float
) -> None:
    """uvloop's clock counts whole milliseconds and its timers round to the nearest: a timer armed for the deadline
    itself fired up to half a millisecond early, and the pass, finding nothing due, armed it again on every turn of
    the loop until the clock moved on (about a thousand passes for one wait)."""

    async def wait() -> tuple[int, float]:
        ticker = Ticker()
        loop = asyncio.get_running_loop()
        start = loop.time()
        await ticker.wait(seconds)
        return ticker.passes, loop.time() - start

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        passes, waited = runner.run(wait())
    assert passes == 1
    assert waited >= seconds - DUST_S


@pytest.mark.parametrize("loop_factory", [uvloop.new_event_loop, asyncio.new_event_loop], ids=["uvloop", "asyncio"])
@pytest.mark.parametrize("seconds", [0.0203, 0.0305, 0.0101])
def test_a_control_wait_that_nothing_ends_lasts_its_whole_timeout(
    loop_factory: Callable[[], asyncio.AbstractEventLoop], seconds: float
) -> None:
    """`GET /__mockgw/calls?wait_for=N&timeout=S` and the holds' wait (control.wait_until): on uvloop a timeout of
    20.3 ms once ended at 20 ms by the loop's own clock, its timer rounded to the nearest millisecond."""

    async def wait() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await wait_until([], lambda: False, seconds)
        return loop.time() - start

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        waited = runner.run(wait())
    assert seconds - DUST_S <= waited < seconds + 0.05


FIXTURE = """\
version: 1
fixtures:
  - name: paced
    reply:
      content: "one two three four five six seven eight"
      chunk_tokens: 1
      chunk_ms: {chunk_ms}
"""


def _stream(gateway: MockGateway, on_event: Callable[[], None] | None = None) -> tuple[bytes, list[float]]:
    """The raw stream and the time each event arrived, counted from before the request was sent: the stream's clock
    starts after that, so an event due `t` after its start arrives at `t` or later, however busy the machine is.
    (Counted from the first event instead, a client that reads the first event late sees the others early.)"""
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    events, times = b"", []
    sent = time.monotonic()
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
                if on_event is not None:
                    on_event()
    return re.sub(rb'"created":\d+', b'"created":0', events), [t - sent for t in times]


def test_a_paced_stream_sends_the_same_bytes_at_its_scripted_times(
    tmp_path: Path, gateway_factory: Callable[..., MockGateway]
) -> None:
    paced, unpaced = tmp_path / "paced.yaml", tmp_path / "unpaced.yaml"
    paced.write_text(FIXTURE.format(chunk_ms=40))
    unpaced.write_text(FIXTURE.format(chunk_ms=0))
    events, times = _stream(gateway_factory(fixtures=(str(paced),), seed=3))
    expected, _ = _stream(gateway_factory(fixtures=(str(unpaced),), seed=3))
    assert events == expected
    # the role event, then the eight content events due 40 ms apart on the stream's clock: none arrives early (a busy
    # machine only makes them later; 2 ms for the loop's clock, which counts whole milliseconds under uvloop)
    assert all(at >= 0.04 * number - 0.002 for number, at in enumerate(times[:9])), times


@pytest.mark.parametrize("chunk_ms", [20, 20.3])
def test_a_paced_stream_costs_the_server_one_pass_per_event_not_a_busy_loop(
    tmp_path: Path, gateway_factory: Callable[..., MockGateway], chunk_ms: float
) -> None:
    """On the server's uvloop a paced stream's deadlines (its start plus 20 ms, plus 20 ms...) fall between two of the
    clock's milliseconds, by float rounding or by a fractional `chunk_ms`: each event once cost about a thousand
    passes of the ticker, a busy loop taking most of a core under a thousand streams."""
    paced, unpaced = tmp_path / "paced.yaml", tmp_path / "unpaced.yaml"
    paced.write_text(FIXTURE.format(chunk_ms=chunk_ms))
    unpaced.write_text(FIXTURE.format(chunk_ms=0))
    gateway = gateway_factory(fixtures=(str(paced),), seed=3)
    runner = gateway._runner  # the test looks inside: how many passes the ticker ran
    assert runner is not None
    ticker = runner.app[inject.TICKER]
    before = gateway.run_in_loop(lambda: ticker.passes)
    events, times = _stream(gateway)
    passes = gateway.run_in_loop(lambda: ticker.passes) - before
    assert events == _stream(gateway_factory(fixtures=(str(unpaced),), seed=3))[0]
    assert passes <= 10, passes  # at most one per event after the role chunk: eight contents, the final, [DONE]
    assert all(at >= chunk_ms / 1000 * number - 0.002 for number, at in enumerate(times[:9])), times  # none early


def test_a_late_server_catches_up_with_the_script_instead_of_adding_its_lateness(
    tmp_path: Path, gateway_factory: Callable[..., MockGateway]
) -> None:
    paced, unpaced = tmp_path / "paced.yaml", tmp_path / "unpaced.yaml"
    paced.write_text(FIXTURE.format(chunk_ms=75))
    unpaced.write_text(FIXTURE.format(chunk_ms=0))
    gateway = gateway_factory(fixtures=(str(paced),), seed=3)
    expected, _ = _stream(gateway_factory(fixtures=(str(unpaced),), seed=3))
    stall_ended: list[float] = []
    arrived: list[float] = []

    def block_once() -> None:  # the server's loop stalls for 0.6 s right after the first event, as under load
        if not stall_ended:
            gateway.run_in_loop(lambda: time.sleep(0.6))  # returns when the stall is over
            stall_ended.append(time.monotonic())
        arrived.append(time.monotonic())

    events, times = _stream(gateway, on_event=block_once)
    assert events == expected
    # the script lasts 8 x 75 = 600 ms, no longer than the stall: whatever was not sent when the stall began is due
    # when it ends, and goes out together at once, so the stream ends right after the stall. Were every wait to
    # restart instead, the last event would come 7 x 75 = 525 ms after it. Counted from the stall's end (not from
    # the first event), a busy machine delays only the last write and read, by far less than 300 ms.
    assert arrived[-1] - stall_ended[0] < 0.3, times
    assert times[8] >= 0.6 - 0.002, times  # and still nothing early


def test_the_openai_sdk_reads_a_paced_stream_as_the_same_chunks_on_its_script(
    tmp_path: Path, gateway_factory: Callable[..., MockGateway]
) -> None:
    """The ticker writes a faultless paced stream itself: a real client still gets the same chunks, on time."""
    paced, unpaced = tmp_path / "paced.yaml", tmp_path / "unpaced.yaml"
    paced.write_text(FIXTURE.format(chunk_ms=40))
    unpaced.write_text(FIXTURE.format(chunk_ms=0))

    def chunks(gateway: MockGateway) -> tuple[list[str], list[float]]:
        client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
        user: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
        got: list[str] = []
        times: list[float] = []
        sent = time.monotonic()
        stream = client.chat.completions.create(model="openai/gpt-4o", messages=user, stream=True)
        for chunk in stream:
            times.append(time.monotonic() - sent)
            got.append(chunk.model_dump_json(exclude={"created"}))
        return got, times

    got, times = chunks(gateway_factory(fixtures=(str(paced),), seed=5))
    expected, _ = chunks(gateway_factory(fixtures=(str(unpaced),), seed=5))
    assert got == expected
    assert "".join(json.loads(c)["choices"][0]["delta"].get("content") or "" for c in got if json.loads(c)["choices"])
    # the role chunk then eight content chunks 40 ms apart on the stream's clock, which starts after the request
    # was sent: counted from the request, none is early (a busy machine only makes them later; 2 ms for the loop's
    # clock, which counts whole milliseconds under uvloop)
    assert all(at >= 0.04 * number - 0.002 for number, at in enumerate(times[:9])), times


def test_a_client_leaving_a_paced_stream_is_journaled_as_gone(
    tmp_path: Path, gateway_factory: Callable[..., MockGateway]
) -> None:
    paced = tmp_path / "paced.yaml"
    paced.write_text(FIXTURE.format(chunk_ms=300))
    gateway = gateway_factory(fixtures=(str(paced),))
    body = b'{"model":"openai/gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true}'
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {API_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(head + body)
        received = b""
        while b"\n\n" not in received:  # the headers and the first event (the role chunk), then leave
            received += sock.recv(65536)
    deadline = time.monotonic() + 10
    calls = journal(gateway.port)
    while not calls and time.monotonic() < deadline:  # journaled when the server sees the client gone
        time.sleep(0.05)
        calls = journal(gateway.port)
    delivered = calls[0]["delivered"]
    assert delivered["client_disconnected"] is True
    assert delivered["ending"] == "client_disconnected"
    assert delivered["completed"] is False
    assert 1 <= delivered["events"] < 11


def test_a_stream_the_ticker_may_not_write_to_goes_out_the_same_through_aiohttp(
    tmp_path: Path, gateway_factory: Callable[..., MockGateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A response whose writer the ticker's pass may not use (compressed, say) is paced by awaiting aiohttp's write."""
    monkeypatch.setattr(inject, "_direct_writer", lambda response: None)
    paced, unpaced = tmp_path / "paced.yaml", tmp_path / "unpaced.yaml"
    paced.write_text(FIXTURE.format(chunk_ms=30))
    unpaced.write_text(FIXTURE.format(chunk_ms=0))
    events, times = _stream(gateway_factory(fixtures=(str(paced),), seed=3))
    expected, _ = _stream(gateway_factory(fixtures=(str(unpaced),), seed=3))
    assert events == expected
    assert all(at >= 0.03 * number - 0.002 for number, at in enumerate(times[:9])), times  # none early
