"""The one injector: writes an Outcome to the socket with its waits, holds and fault.

Every decision was taken in the pure layer (the Delivery holds concrete numbers and a resolved fault); this module
only carries it out and reports what the client actually received (for the journal).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mockgw.core.names import SESSION_HEADER
from mockgw.faults import catalogue as faults
from mockgw.gateway.outcome import Delivery, Outcome
from mockgw.server.holds import Held, Holds
from mockgw.server.loop import DUST_S, timer_delay
from mockgw.server.ticker import Ticker

HOLDS: web.AppKey[Holds] = web.AppKey("holds", Holds)
TICKER: web.AppKey[Ticker] = web.AppKey("ticker", Ticker)
POLL_SECONDS = 0.05  # how often a long wait looks for a client that left
_STREAM_HEADERS = frozenset({"content-type", "cache-control"})  # every stream's own


@dataclass
class Sent:
    """What the client received: the journal's `delivered` record."""

    events: int = 0
    bytes: int = 0
    completed: bool = False
    ending: str = "eof"  # eof | close | reset | client_disconnected | server_stop
    client_disconnected: bool = False
    held_ms: float | None = None
    released_by: str | None = None  # release | timeout | client_disconnected | server_stop
    answered: bool = False  # a status line went out (not when the connection was dropped, or hung up, before it)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "events": self.events,
            "bytes": self.bytes,
            "completed": self.completed,
            "ending": self.ending,
            "client_disconnected": self.client_disconnected,
        }
        if self.held_ms is not None:
            data["held_ms"] = self.held_ms
            data["released_by"] = self.released_by
        return data


SENT_KEY: web.RequestKey[Sent] = web.RequestKey("sent", Sent)


def setup(app: web.Application) -> None:
    """Give the app its hold registry and its ticker; stopping the server releases every held answer and wait."""
    app[HOLDS] = Holds()
    app[TICKER] = Ticker()

    async def on_shutdown(app: web.Application) -> None:
        app[HOLDS].stop()
        app[TICKER].stop()

    app.on_shutdown.append(on_shutdown)


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def pause(request: web.Request, ms: float | None, held: Held | None = None) -> str:
    """Wait `ms` (None: for ever); ends early when the client leaves, the hold is released or the server stops.

    Returns why it ended: elapsed, client_disconnected, release or server_stop. A plain wait (no `held`) ends as
    elapsed once the server stops: a stopping server drains, sending what is left of each answer at once.
    """
    if ms is not None and ms <= 0:
        return "elapsed"
    holds = request.app[HOLDS]
    if held is None and ms is not None:
        return await _sleep(request, ms)
    loop = asyncio.get_running_loop()
    deadline = None if ms is None else loop.time() + ms / 1000
    event = held.released if held is not None else holds.stopping
    while True:
        if event.is_set():
            return "elapsed" if held is None else held.reason or "server_stop"
        if _gone(request):
            return "client_disconnected"
        remaining = POLL_SECONDS if deadline is None else deadline - loop.time()
        if remaining <= DUST_S:
            return "elapsed"
        try:  # a timeout that never ends before the deadline (server/loop.py): no busy loop while it comes
            await asyncio.wait_for(event.wait(), timer_delay(loop, min(POLL_SECONDS, remaining)))
        except TimeoutError:
            continue


async def _sleep(request: web.Request, ms: float) -> str:
    """A plain wait on the shared ticker, looking for a client that left every POLL_SECONDS of it.

    Ends as elapsed when the server stops: a stopping server drains, sending what is left of each answer at once.
    """
    ticker = request.app[TICKER]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ms / 1000
    while True:
        await ticker.wait(min(POLL_SECONDS, deadline - loop.time()))
        if ticker.stopped:
            return "elapsed"
        if _gone(request):
            return "client_disconnected"
        if loop.time() + DUST_S >= deadline:  # due as the ticker says it is (server/loop.py)
            return "elapsed"


def _reset(request: web.Request) -> None:
    """RST: linger 0 makes close() drop the connection instead of the orderly FIN."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _close(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.close()


def _end(request: web.Request, sent: Sent, ending: str) -> web.StreamResponse:
    """Drop the connection; aiohttp's own attempt to finish the response then fails quietly."""
    sent.ending = ending
    if ending == "reset":
        _reset(request)
    else:
        _close(request)
    return web.Response()


def _left(request: web.Request, sent: Sent, why: str) -> web.StreamResponse:
    sent.client_disconnected = why == "client_disconnected"
    return _end(request, sent, why if why in ("client_disconnected", "server_stop") else "close")


async def _write(response: web.StreamResponse, data: bytes, sent: Sent, event: int = 0, events: int = 1) -> bool:
    """Write `data` (`events` whole events when `event` is not 0; else a comment or a piece of one)."""
    try:
        await response.write(data)
    except ConnectionError:
        sent.client_disconnected = True
        sent.ending = "client_disconnected"
        return False
    sent.bytes += len(data)
    if event:
        sent.events += events
    return True


def coalesced(events: Sequence[bytes], waits: Sequence[float]) -> list[tuple[float, bytes, int]]:
    """Runs of events with no wait between them, as (wait before the run, its bytes, how many events).

    Only for streams without a fault: one write (one chunk, one syscall) instead of one per event. The body is
    the same bytes; an event that waits still starts its own write, so every wait stays where it was.
    """
    if not any(waits):
        return [(0.0, b"".join(events), len(events))] if events else []
    if all(wait > 0 for wait in waits[1:]):  # a paced stream: every event is a run of its own
        return [(wait, data, 1) for wait, data in zip(waits, events, strict=True)]
    runs: list[tuple[float, list[bytes]]] = []
    for wait, data in zip(waits, events, strict=True):
        if runs and wait <= 0:
            runs[-1][1].append(data)
        else:
            runs.append((wait, [data]))
    return [(wait, b"".join(data), len(data)) for wait, data in runs]


def plain_response(request: web.Request, outcome: Outcome) -> web.Response | None:
    """The response of an answer that goes out in one piece at once (no hold, delay, fault or stream), else None.

    Most answers: made without the coroutines `deliver` would await."""
    delivery = outcome.delivery
    if outcome.events is not None or delivery.fault is not None or delivery.hold is not None or delivery.delay_ms > 0:
        return None
    request[SENT_KEY] = Sent(bytes=len(outcome.body), completed=True, answered=True)
    return web.Response(
        status=outcome.status, body=outcome.body, content_type=outcome.content_type, headers=outcome.headers
    )


async def deliver(request: web.Request, outcome: Outcome) -> web.StreamResponse:
    """Hold, wait, then write the outcome as its Delivery says (fault included), recording what was sent."""
    sent = Sent()
    request[SENT_KEY] = sent
    delivery = outcome.delivery
    fault = delivery.fault
    if delivery.hold is not None:
        why = await _hold(request, outcome, "hold", delivery.hold.timeout_ms, sent)
        if why not in ("release", "elapsed", "server_stop"):  # a stopping server sends held answers
            return _left(request, sent, why)
    if delivery.delay_ms > 0:  # most answers have no delay: no coroutine to make and await
        why = await pause(request, delivery.delay_ms)
        if why != "elapsed":
            return _left(request, sent, why)
    abort = fault.abort() if fault is not None else None
    if abort is not None:  # the fault ends the exchange before any response byte
        if abort.ending == "hang":
            why = await _hold(request, outcome, "hang", None, sent)
            return _left(request, sent, why)
        if abort.data and request.transport is not None:
            request.transport.write(abort.data)
            sent.bytes = len(abort.data)
        return _end(request, sent, abort.ending)
    if outcome.events is None:
        return await _deliver_body(request, outcome, sent)
    return await _deliver_stream(request, outcome, sent)


async def _hold(request: web.Request, outcome: Outcome, kind: str, timeout_ms: float | None, sent: Sent) -> str:
    holds = request.app[HOLDS]
    session = request.headers.get(SESSION_HEADER, "")
    held = holds.hold(session, outcome.fixture, request.path, kind)
    started = time.monotonic()
    try:
        why = await pause(request, timeout_ms, held)
    finally:
        holds.drop(held)
    sent.held_ms = round((time.monotonic() - started) * 1000, 3)
    sent.released_by = "timeout" if why == "elapsed" else why
    return why


async def _deliver_body(request: web.Request, outcome: Outcome, sent: Sent) -> web.StreamResponse:
    fault = outcome.delivery.fault
    pieces = fault.pieces(outcome.body) if fault is not None else None
    if pieces is None:
        sent.bytes = len(outcome.body)
        sent.completed = sent.answered = True
        return web.Response(
            status=outcome.status,
            body=outcome.body,
            content_type=outcome.content_type,
            headers=outcome.headers,
        )
    response = web.StreamResponse(status=outcome.status, headers=outcome.headers)
    response.content_type = outcome.content_type
    response.content_length = len(outcome.body)
    await response.prepare(request)
    sent.answered = True
    for part in pieces:
        why = await pause(request, part.wait_ms)
        if why != "elapsed":
            return _left(request, sent, why)
        if not await _write(response, part.data, sent):
            return response
    await response.write_eof()
    sent.completed = True
    return response


class _Paced:
    """A faultless stream's runs, written by the ticker's pass as they fall due (`Ticker.schedule`).

    Each run is due at the stream's start plus every wait before it, and every run already due when the pass comes
    goes out in that same write. A server running late (a thousand paced streams on one core) thus catches up
    instead of adding its lateness to every later wait, and a late stream costs fewer writes, not more. Nothing is
    sent before it is due; on time, these are the same writes as before, one per run. A stream whose next run is
    more than POLL_SECONDS away is looked at every POLL_SECONDS, so that a client that left is seen as before.

    The writes go straight to aiohttp's payload writer (aiohttp internals: the synchronous half of
    `StreamWriter.write`, used only for a response without compression, chunk hook or declared length, which
    `_direct_writer` checks), each run framed as an HTTP chunk once, up front: a write costs no coroutine, no timer
    and no drain. `ended` resolves with why it ended: elapsed (every run written) or client_disconnected.
    """

    __slots__ = ("_index", "_runs", "_sent", "_start", "_transport", "_writer", "ended")

    def __init__(
        self,
        writer: Any,
        transport: asyncio.Transport,
        runs: Sequence[tuple[float, bytes, int]],
        sent: Sent,
        start: float,
        ended: asyncio.Future[str],
    ) -> None:
        self._writer = writer
        self._transport = transport
        self._sent = sent
        self._start = start
        self._index = 0
        self.ended = ended
        chunked = writer.chunked
        at = 0.0
        framed: list[tuple[float, bytes, bytes, int]] = []  # (due after start, bytes, as sent, events)
        for wait, data, count in runs:
            at += wait / 1000
            framed.append((at, data, b"%x\r\n%b\r\n" % (len(data), data) if chunked else data, count))
        self._runs = framed

    @property
    def due(self) -> float:
        """When the next run is due (loop time)."""
        return self._start + self._runs[self._index][0]

    def step(self, now: float) -> float | None:
        if self.ended.done():  # the handler was cancelled: nothing more to send
            return None
        if self._transport.is_closing():
            self._finish("client_disconnected")
            return None
        runs, index, start = self._runs, self._index, self._start
        if start + runs[index][0] > now:  # a look for a client that left, between two runs far apart
            return min(start + runs[index][0], now + POLL_SECONDS)
        first = index
        count = size = 0
        while index < len(runs) and start + runs[index][0] <= now:
            count += runs[index][3]
            size += len(runs[index][1])
            index += 1
        self._index = index
        writer = self._writer
        try:
            if writer._headers_buf and not writer._headers_written:  # the headers go out with the first bytes
                writer._send_headers_with_payload(b"".join(run[1] for run in runs[first:index]), False)
            else:
                writer._write(runs[first][2] if index == first + 1 else b"".join(run[2] for run in runs[first:index]))
        except ConnectionError:
            self._finish("client_disconnected")
            return None
        sent = self._sent
        sent.bytes += size
        sent.events += count
        if index >= len(runs):
            self._finish("elapsed")
            return None
        return min(start + runs[index][0], now + POLL_SECONDS)

    def _finish(self, why: str) -> None:
        if not self.ended.done():
            self.ended.set_result(why)


def _direct_writer(response: web.StreamResponse) -> Any:
    """aiohttp's payload writer when the ticker may write to it directly, else None (see _Paced)."""
    writer = response._payload_writer  # aiohttp internal
    if (
        writer is None
        or getattr(writer, "_compress", None) is not None
        or getattr(writer, "_on_chunk_sent", None) is not None
        or getattr(writer, "length", None) is not None
        or not hasattr(writer, "_send_headers_with_payload")
    ):
        return None
    return writer


async def _write_runs(
    request: web.Request, response: web.StreamResponse, runs: Sequence[tuple[float, bytes, int]], sent: Sent
) -> web.StreamResponse | None:
    """Write a faultless stream's runs on its script's clock; the response to return if it ended early, else None.

    The ticker's pass writes them (_Paced); a run due at once goes out here, without waiting for a pass.
    """
    loop = asyncio.get_running_loop()
    writer = _direct_writer(response)
    transport = request.transport
    if writer is None or transport is None:
        return await _write_runs_awaiting(request, response, runs, sent)
    ended: asyncio.Future[str] = loop.create_future()
    start = loop.time()
    paced = _Paced(writer, transport, runs, sent, start, ended)
    later = paced.step(start) if runs[0][0] <= 0 else paced.due
    if later is not None:
        request.app[TICKER].schedule(later, paced)
    try:
        why = await ended
    except asyncio.CancelledError:
        paced._finish("client_disconnected")
        raise
    if why != "elapsed":
        return _left(request, sent, why)
    return None


async def _write_runs_awaiting(
    request: web.Request, response: web.StreamResponse, runs: Sequence[tuple[float, bytes, int]], sent: Sent
) -> web.StreamResponse | None:
    """_write_runs through aiohttp's own `write` (a response the ticker may not write to directly)."""
    loop = asyncio.get_running_loop()
    due = loop.time()
    index = 0
    while index < len(runs):
        wait, data, count = runs[index]
        due += wait / 1000
        index += 1
        if wait > 0:
            why = await pause(request, (due - loop.time()) * 1000)
            if why != "elapsed":
                return _left(request, sent, why)
        now = loop.time()
        if index < len(runs) and due + runs[index][0] / 1000 <= now:  # late: the runs due by now go out together
            pieces = [data]
            while index < len(runs) and due + runs[index][0] / 1000 <= now:
                wait, more, events = runs[index]
                due += wait / 1000
                pieces.append(more)
                count += events
                index += 1
            data = b"".join(pieces)
        if not await _write(response, data, sent, 1, count):
            return response
    return None


async def _deliver_stream(request: web.Request, outcome: Outcome, sent: Sent) -> web.StreamResponse:
    delivery = outcome.delivery
    fault = delivery.fault
    assert outcome.events is not None
    drawn = faults.Drawn(delivery.delay_ms, delivery.ttft_ms, delivery.chunk_ms, delivery.gaps)
    if fault is None:  # the events go out as they are, in runs (see coalesced): no per-event plan to build
        return await _deliver_faultless(request, outcome, sent, drawn)
    plan = faults.plan_stream(outcome.events, drawn, fault, outcome.codec)
    parts: list[faults.Part] = list(plan.parts)
    split = [fault.pieces(part.data) for part in plan.parts]
    if any(pieces is not None for pieces in split):  # the fault writes each event in pieces
        parts = [
            faults.Part(part.wait_ms if i == 0 else piece.wait_ms, piece.data, part.event if i == last else 0)
            for part, pieces in zip(plan.parts, split, strict=True)
            for whole in [pieces or (part,)]
            for last in [len(whole) - 1]
            for i, piece in enumerate(whole)
        ]
    response = web.StreamResponse(status=outcome.status, headers=outcome.headers)
    response.content_type = outcome.content_type
    response.headers["Cache-Control"] = "no-cache"
    if not await _prepared(request, response, sent):
        return response
    for index, part in enumerate(parts):
        if plan.stall_after is not None and index == plan.stall_after:
            why = await _hold(request, outcome, "stall", None, sent)
            if why != "release":
                return _left(request, sent, why)
        why = await _wait_with_keepalive(request, response, part.wait_ms, plan.keepalive_ms, sent)
        if why != "elapsed":
            return _left(request, sent, why) if why != "write_failed" else response
        if not await _write(response, part.data, sent, part.event):
            return response
    if plan.stall_after is not None and plan.stall_after >= len(parts):
        why = await _hold(request, outcome, "stall", None, sent)
        if why != "release":
            return _left(request, sent, why)
    ending = plan.ending if plan.ending != "eof" else outcome.ending
    if ending != "eof":
        return _end(request, sent, ending)
    if await _ended(response, sent):
        sent.completed = fault.completes
    return response


async def _deliver_faultless(
    request: web.Request, outcome: Outcome, sent: Sent, drawn: faults.Drawn
) -> web.StreamResponse:
    """A stream without a fault: its runs on the script's clock (_write_runs), then the end of the body."""
    assert outcome.events is not None
    runs = coalesced(outcome.events, faults.stream_waits(len(outcome.events), drawn))
    if any(name.lower() in _STREAM_HEADERS for name in outcome.headers):  # replaced, as the setters below do
        response = web.StreamResponse(status=outcome.status, headers=outcome.headers)
        response.content_type = outcome.content_type
        response.headers["Cache-Control"] = "no-cache"
    else:  # the same headers in one go (the content type's setter would parse and rebuild them)
        headers = {**outcome.headers, "Content-Type": outcome.content_type, "Cache-Control": "no-cache"}
        response = web.StreamResponse(status=outcome.status, headers=headers)
    if not await _prepared(request, response, sent):
        return response
    if runs:
        ended = await _write_runs(request, response, runs, sent)
        if ended is not None:
            return ended
    if outcome.ending != "eof":
        return _end(request, sent, outcome.ending)
    if await _ended(response, sent):
        sent.completed = True
    return response


async def _prepared(request: web.Request, response: web.StreamResponse, sent: Sent) -> bool:
    """Send a stream's status and headers; False when the client has left already (recorded in `sent`)."""
    try:
        await response.prepare(request)
    except ConnectionError:
        sent.client_disconnected = True
        sent.ending = "client_disconnected"
        return False
    sent.answered = True
    return True


async def _ended(response: web.StreamResponse, sent: Sent) -> bool:
    """End a stream's body; False when the client has left (recorded in `sent`)."""
    try:
        await response.write_eof()
    except ConnectionError:
        sent.client_disconnected = True
        sent.ending = "client_disconnected"
        return False
    return True


async def _wait_with_keepalive(
    request: web.Request, response: web.StreamResponse, ms: float, every_ms: float | None, sent: Sent
) -> str:
    """Wait `ms`, sending a `: keep-alive` comment each `every_ms` of silence when asked."""
    while every_ms and ms > every_ms:
        why = await pause(request, every_ms)
        if why != "elapsed":
            return why
        if not await _write(response, faults.KEEPALIVE, sent):
            return "write_failed"
        ms -= every_ms
    return await pause(request, ms)


def delivered_json(delivery: Delivery, sent: Sent | None) -> dict[str, Any]:
    """The journal's `delivered` record: what the client received, the waits drawn and the fault that fired."""
    data: dict[str, Any] = sent.as_json() if sent is not None else {}
    data["timing"] = {"delay_ms": delivery.delay_ms, "ttft_ms": delivery.ttft_ms, "chunk_ms": delivery.chunk_ms}
    if delivery.gaps:
        data["timing"]["gaps_ms"] = list(delivery.gaps)
    if delivery.fault is not None:
        data["fault"] = {**faults.describe(delivery.fault), "source": delivery.fault_source}
    return data
