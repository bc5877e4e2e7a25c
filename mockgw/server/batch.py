"""Answers written together at the end of the loop's turn: one wake-up of the client for many answers.

Writing to a socket wakes the process that reads it. When that process sleeps on another core, as a load generator
or a test suite's client pool does between answers, the kernel sends that core an interrupt, and on a virtual
machine the interrupt costs more than mockgw's whole answer (docs/bench.md, "Eighth session": the send system
call was a third of a non-streamed request's CPU, most of it that wake-up). The fast path (server/connections.py)
answers from `data_received`, one connection after another in the same turn of the loop; written at once, each
answer wakes the client again. `WriteBatch` writes the first answer of a turn at once, so a lone client waits for
nothing, and keeps the others until the turn ends (at most `MAX_BATCH` of them, then they go together): the client,
woken by the first, finds them all in one look.

Order on a connection is kept: its answers are written in the order they were given, and whatever else writes to
it (the ticker's pass for a timed stream's events, the usual way's handler for its next request) runs after the
batch has been written (`write_pending` first in the ticker's pass; callbacks scheduled later in the turn run after
the batch's own). Nothing is sent differently: the same bytes, at most one turn of the loop later.
"""

from __future__ import annotations

import asyncio

MAX_BATCH = 32  # answers kept at most before they all go: bounds what the last one waits for


class WriteBatch:
    """Writes given during one turn of the loop, sent together at its end (the first at once)."""

    __slots__ = ("_loop", "_pending")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: list[tuple[asyncio.Transport, bytes, bool]] | None = None  # None: no write this turn yet

    def send(self, transport: asyncio.Transport, data: bytes, close: bool = False) -> None:
        """Write `data` to `transport` (then close it, with `close`): at once if it is the turn's first write,
        else with the turn's others."""
        pending = self._pending
        if pending is None:  # the turn's first: at once, and the others at the turn's end
            self._pending = []
            self._loop.call_soon(self._end_turn)
            _write(transport, data, close)
            return
        pending.append((transport, data, close))
        if len(pending) >= MAX_BATCH:
            self.write_pending()

    def write_pending(self) -> None:
        """Write what is kept now (before anything else writes to the same connections)."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        for transport, data, close in pending:
            _write(transport, data, close)

    def _end_turn(self) -> None:
        self.write_pending()
        self._pending = None


def _write(transport: asyncio.Transport, data: bytes, close: bool) -> None:
    if transport.is_closing():  # the client left meanwhile: nobody to write to
        return
    transport.write(data)
    if close:
        transport.close()
