"""MockGateway: one object that the CLI and the pytest plugin both drive.

It serves on a port of its own, either in the caller's event loop (`await start_async()`) or in a background
thread with its own loop (`start()`), so blocking and async clients alike can talk to it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import TypeVar, cast

from aiohttp import web

from mockgw.core.errors import ApiError
from mockgw.fixtures.load import load_paths
from mockgw.gateway.config import Settings
from mockgw.gateway.outcome import RawRequest, error_outcome
from mockgw.gateway.state import GatewayState
from mockgw.record.modes import RecordSettings
from mockgw.server.accept import BulkAccept
from mockgw.server.app import make_app, record
from mockgw.server.connections import GatewayRunner
from mockgw.server.listen import authority, bound
from mockgw.server.loop import is_uvloop, new_event_loop

T = TypeVar("T")

# Pending connections the kernel queues before accept: 128 (the default) overflowed with 1,000 clients connecting
# at once. The kernel caps it at net.core.somaxconn.
BACKLOG = 4096


class MockGateway:
    """A running (or ready to run) mock Edgee gateway."""

    def __init__(self, settings: Settings | None = None, record: RecordSettings | None = None) -> None:
        self.settings = settings or Settings()
        self.record = record  # forward to an upstream and record (server/proxy.py), or None
        self.state = GatewayState(self.settings, load_paths(self.settings.fixtures))
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._accept: BulkAccept | None = None  # uvloop: every pending connection accepted at once (server/accept.py)
        self.port = self.settings.port

    @property
    def url(self) -> str:
        """The server's root, e.g. http://127.0.0.1:8080 (an IPv6 address in brackets: http://[::1]:8080)."""
        return f"http://{authority(self.settings.host, self.port)}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL (`…/v1`)."""
        return f"{self.url}/v1"

    async def start_async(self) -> None:
        """Serve in the running event loop (port 0 picks a free port)."""
        app = make_app(self.state)
        if self.record is not None:
            from mockgw.server import proxy

            proxy.install(app, self.record)

        def refused(raw: RawRequest, error: ApiError) -> None:  # a request refused before the app saw it
            record(app, raw, error_outcome(error), time.perf_counter())

        self._runner = GatewayRunner(app, self.settings, refused)
        await self._runner.setup()
        sock = bound(self.settings.host, self.settings.port)  # an IP literal: no resolving (server/listen.py)
        site: web.BaseSite
        if sock is None:
            site = web.TCPSite(
                self._runner, self.settings.host, self.settings.port, reuse_address=True, backlog=BACKLOG
            )
        else:
            site = web.SockSite(self._runner, sock, backlog=BACKLOG)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        loop = asyncio.get_running_loop()
        listening = cast(asyncio.Server | None, site._server)  # aiohttp internal: the loop's server behind the site
        if is_uvloop(loop) and listening is not None and self._runner.server is not None:
            self._accept = BulkAccept(loop, listening.sockets[0].fileno(), self._runner.server, BACKLOG)

    async def stop_async(self) -> None:
        if self._accept is not None:
            self._accept.close()
            self._accept = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self) -> MockGateway:
        """Serve from a background thread with its own event loop; returns once the port is open."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:  # reported to the caller of start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop_async())
            loop.close()

        self._thread = threading.Thread(target=run, name="mockgw", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def run_in_loop(self, function: Callable[[], T]) -> T:
        """Call `function` on the server's loop and return its result (state is only touched there).

        Runs it directly when the server shares the caller's loop (`start_async`) or is not running.
        """
        loop = self._loop
        if loop is None or self._thread is None or threading.current_thread() is self._thread:
            return function()
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(function())
            except BaseException as exc:  # handed to the calling thread
                done.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return done.result()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop = None
            self._thread = None

    def __enter__(self) -> MockGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
