"""Timed streams on the fast path: headers written by the connection at once, the paced body by the ticker.

A faultless stream with waits (`ttft_ms`, `chunk_ms`, jittered gaps) is answered by the connection
(server/connections.py) from `data_received`, as the fast path answers a plain request (server/fast.py): the
pipeline runs there, the status line and headers go out at once (with the events due at once), and the rest of the
body is one entry on the shared ticker (server/ticker.py), whose pass writes every run due by then straight to the
transport. The request never becomes aiohttp's task, Request and StreamResponse, so with a thousand streams starting
together each one's headers wait only for the requests ahead of it, not for aiohttp's machinery around them.

The bytes are the usual way's (server/inject.py `_deliver_faultless`): the same headers in the same order, each run
of events one HTTP chunk, then the last chunk; the runs are due at the same times (the stream's start plus their
waits), late runs go out together, none early. A client that leaves ends the stream at once (the connection tells
it), journaled as the usual way journals it: `client_disconnected`, the events it was sent. A stopping server sends
what is left at once (`Ticker.stop`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from aiohttp import hdrs
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE

from mockgw.core.frozen import frozen
from mockgw.faults import catalogue as faults
from mockgw.gateway.outcome import Outcome
from mockgw.server.fast import plain, serialized
from mockgw.server.inject import Sent
from mockgw.server.ticker import Ticker

LAST_CHUNK = b"0\r\n\r\n"
Send = Callable[[asyncio.Transport, bytes, bool], None]  # writes to a transport, closing it after if asked (batch.py)


@frozen
class Timed:
    """A timed stream the connection may send itself: its head (status line and headers), its events and the wait
    before each (as faults.stream_waits gives them)."""

    head: bytes
    events: Sequence[bytes]
    waits: Sequence[float]


def timed(outcome: Outcome, close: bool, date: Callable[[], str] = rfc822_formatted_time) -> Timed | None:
    """The head, events and waits of a faultless stream with waits, as aiohttp would send them (`close`: the
    request asked for `Connection: close`); None for any other answer (a fault, a hold, a delay, a recorded cut, a
    header aiohttp sets itself), which goes the usual way."""
    events = outcome.events
    if not events or outcome.ending != "eof" or not plain(outcome):
        return None
    delivery = outcome.delivery
    waits = faults.stream_waits(len(events), faults.Drawn(0.0, delivery.ttft_ms, delivery.chunk_ms, delivery.gaps))
    head = {
        **outcome.headers,
        hdrs.CONTENT_TYPE: outcome.content_type,
        hdrs.CACHE_CONTROL: "no-cache",
        hdrs.TRANSFER_ENCODING: "chunked",
        hdrs.DATE: date(),
        hdrs.SERVER: SERVER_SOFTWARE,
    }
    if close:
        head[hdrs.CONNECTION] = "close"
    line = serialized(outcome.status, head)
    return None if line is None else Timed(line, events, waits)


def _chunk(run: list[bytes]) -> tuple[bytes, int]:
    """A run of events as one HTTP chunk, and the size of its data."""
    data = run[0] if len(run) == 1 else b"".join(run)
    return b"%x\r\n%b\r\n" % (len(data), data), len(data)


class FastStream:
    """A timed stream's body, written by the ticker's pass as its events fall due (`Ticker.schedule`'s steps).

    As the usual way writes it (inject.coalesced and `_Paced`): events with no wait between them make one run, each
    run one HTTP chunk; every event due by the pass goes out in one write; none early. The runs are framed as they
    go out, not up front, so that the headers of the streams behind it in a burst do not wait for that.
    `ended(stream, why)` is called once, with elapsed (every event and the last chunk written) or
    client_disconnected; `sent` says what the client received."""

    __slots__ = ("_due", "_ended", "_events", "_index", "_over", "_transport", "_waits", "sent")

    def __init__(
        self,
        transport: asyncio.Transport,
        timed: Timed,
        ended: Callable[[FastStream, str], None],
    ) -> None:
        self._transport = transport
        self._events = timed.events
        self._waits = timed.waits
        self._ended = ended
        self._index = 0
        self._due = 0.0  # loop time the next event is due
        self._over = False
        self.sent = Sent(answered=True)

    def begin(self, head: bytes, ticker: Ticker, now: float, send: Send) -> None:
        """Send the head now through `send` (server/batch.py), with the events due at once, and leave the rest to
        the ticker."""
        first = self._waits[0]
        if first > 0:
            send(self._transport, head, False)
            self._due = now + first / 1000
            ticker.schedule(self._due, self)
            return
        self._due = now
        later = self._write(now, head, send)
        if later is not None:
            ticker.schedule(later, self)

    def step(self, now: float) -> float | None:
        """Write every event due by `now`; when the next is due, or None once the stream has ended."""
        if self._over:
            return None
        if self._transport.is_closing():
            self.left()
            return None
        if self._due > now:
            return self._due
        return self._write(now, b"", None)

    def left(self) -> None:
        """The client left (its connection is closing or lost): the stream ends here."""
        self._end("client_disconnected")

    def _write(self, now: float, head: bytes, send: Send | None) -> float | None:
        """Write the events due by `now`, from the next one (due by now), after `head` (through `send`, else
        straight to the transport); when the one after is due, or None."""
        events, waits, index, due = self._events, self._waits, self._index, self._due
        last = len(events)
        first = index
        pieces = [head] if head else []
        size = 0
        run = [events[index]]
        index += 1
        while index < last:
            wait = waits[index]
            if wait > 0:  # a new run, if it is due
                due += wait / 1000
                if due > now:
                    break
                chunk, length = _chunk(run)
                pieces.append(chunk)
                size += length
                run = []
            run.append(events[index])
            index += 1
        chunk, length = _chunk(run)
        pieces.append(chunk)
        size += length
        if index == last:
            pieces.append(LAST_CHUNK)
        self._index, self._due = index, due
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        if send is None:
            self._transport.write(data)
        else:
            send(self._transport, data, False)
        sent = self.sent
        sent.bytes += size
        sent.events += index - first
        if index < last:
            return due
        self._end("elapsed")
        return None

    def _end(self, why: str) -> None:
        if self._over:
            return
        self._over = True
        sent = self.sent
        if why == "elapsed":
            sent.completed = True
        else:
            sent.client_disconnected = True
            sent.ending = why
        self._ended(self, why)
