"""Accept every pending connection at once on uvloop, as asyncio's own loop does.

libuv (under uvloop) accepts one connection per turn of the loop. A thousand clients connecting at once then wait
in the kernel's queue for up to a thousand turns, and under load a turn is long: in stream-1000-timed the last were
accepted most of a second late, and that was the tail of their time to headers (docs/bench.md, "Fifth session").
Here a second watcher on the listening socket (a duplicate of its descriptor, so that libuv's own watcher stays as
it is) accepts all that are pending and hands each to the loop as an accepted connection, made by the same protocol
factory. asyncio's own loop already accepts up to the backlog per turn: nothing is added there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable

LOG = logging.getLogger("mockgw")
RETRY_S = 0.05  # after an error such as too many open files, the next look at the queue


class BulkAccept:
    """Accepts up to `limit` pending connections per turn of the loop on a listening socket's duplicate."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, listening_fd: int, factory: Callable[[], asyncio.Protocol], limit: int
    ) -> None:
        self._loop = loop
        self._sock = socket.socket(fileno=os.dup(listening_fd))  # the same listening socket
        self._sock.setblocking(False)
        self._factory = factory
        self._limit = limit
        self._pending: set[asyncio.Task[object]] = set()  # the loop keeps only weak references to tasks
        self._closed = False
        loop.add_reader(self._sock.fileno(), self._accept)

    def _accept(self) -> None:
        for _ in range(self._limit):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:  # e.g. too many open files: leave the queue to libuv's watcher for a moment
                LOG.debug("mockgw: accept failed: %s", exc)
                self._loop.remove_reader(self._sock.fileno())
                self._loop.call_later(RETRY_S, self._resume)
                return
            conn.setblocking(False)
            task = self._loop.create_task(self._connect(conn))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    def _resume(self) -> None:
        if not self._closed:
            self._loop.add_reader(self._sock.fileno(), self._accept)

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn)
        except OSError:  # the client left before its transport was made
            conn.close()

    def close(self) -> None:
        """Stop accepting (the listening socket itself is closed by its server)."""
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
