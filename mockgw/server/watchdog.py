"""The event-loop watchdog: notices a step that holds the loop longer than `watchdog_ms` (100 ms by default), logs
it with the request that was running, and keeps it as a problem (`GET /__mockgw/problems`).

Nothing is timed per request. A heartbeat callback runs on the loop every few milliseconds (gateway/stalls.py) and
notes the time and its thread's CPU time; a late heartbeat means the loop was held. The request handlers set one
marker (`current`: the request whose code is running) where they resume; a thread wakes as often as the heartbeat
and, when the heartbeat is overdue, notes the marker and the loop thread's stack (which step). The loop thread's
CPU time tells a step of mockgw's own from a machine too busy to run the process (gateway/stalls.py).

The journal numbers a call when it ends, so a stall blamed on a request still running is kept until the request
is journaled, and then reported with its call id.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType

from aiohttp import web

from mockgw.core.names import SESSION_HEADER
from mockgw.gateway.outcome import RawRequest
from mockgw.gateway.stalls import Stall, describe_request, heartbeat_interval, is_held
from mockgw.server.keys import STATE

# What a handler marks as running: its request, or what the connection read of it (server/fast.py)
Marker = web.Request | RawRequest

LOG = logging.getLogger("mockgw")
PACKAGE = str(Path(__file__).resolve().parents[1])  # mockgw's own frames are the ones worth naming


class _Caught:
    """What the watchdog thread saw while the loop was held (one per late heartbeat)."""

    __slots__ = ("beat", "call", "finished", "importing", "request", "where")

    def __init__(self, beat: float, request: Marker | None, frame: FrameType | None) -> None:
        self.beat = beat  # the heartbeat it was late after
        self.request = request
        self.where = _step(frame)
        self.importing = _importing(frame)
        self.finished = False  # the request's handler has returned (its call is journaled, if it is an API call)
        self.call: int | None = None


def _where(frame: FrameType) -> str:
    name = frame.f_code.co_filename
    if name.startswith(PACKAGE):
        name = "mockgw" + name[len(PACKAGE) :]
    return f"{name}:{frame.f_lineno} in {frame.f_code.co_name}"


def _importing(frame: FrameType | None) -> bool:
    """Whether the stack is inside an import (a module's first load: once per process, gateway/stalls.py)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _step(frame: FrameType | None) -> str | None:
    """`file:line in function` of the innermost frame on the loop thread's stack, and of the innermost of mockgw's
    own when that is another (a library, or a test's function, called from mockgw)."""
    if frame is None:
        return None
    innermost, mine = frame, frame  # type: FrameType, FrameType | None
    while mine is not None and not mine.f_code.co_filename.startswith(PACKAGE):
        mine = mine.f_back
    if mine is None or mine is innermost:
        return _where(innermost)
    return f"{_where(innermost)}, called from {_where(mine)}"


class Watchdog:
    """One server's watchdog. `current` is the marker the handlers set; `finished` is called when one ends."""

    def __init__(self, threshold_ms: int, report: Callable[[Stall, Marker | None], None]) -> None:
        self.enabled = threshold_ms > 0
        self.threshold = threshold_ms / 1000
        self.interval = heartbeat_interval(self.threshold)
        self.report = report
        self.current: Marker | None = None  # the request whose handler code runs on the loop now
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._beat = time.monotonic()
        self._cpu = 0.0
        self._full_collections = 0  # gc's count of full (generation 2) collections at the last beat
        self._timer: asyncio.TimerHandle | None = None
        self._caught: _Caught | None = None
        # blamed on a request not journaled yet, by the marker's id() (a RawRequest's headers are not hashable)
        self._pending: dict[int, tuple[Marker, Stall]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- on the loop ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start beating on the running loop, and the thread that watches the beats."""
        if not self.enabled:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._beat, self._cpu = time.monotonic(), time.thread_time()
        self._full_collections = _full_collections()
        self._timer = self._loop.call_later(self.interval, self._heartbeat)
        self._thread = threading.Thread(target=self._watch, name="mockgw-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.cancel()
        if self._thread is not None:
            self._thread.join(timeout=1)
        for request, stall in list(self._pending.values()):  # still running at shutdown: reported without an id
            self.report(stall, request)
        self._pending.clear()

    def _heartbeat(self) -> None:
        now, cpu, collections = time.monotonic(), time.thread_time(), _full_collections()
        late = now - self._beat - self.interval
        if late > self.threshold:
            self._settle(late, cpu - self._cpu, collections != self._full_collections)
        self._beat, self._cpu, self._full_collections = now, cpu, collections
        assert self._loop is not None
        self._timer = self._loop.call_later(self.interval, self._heartbeat)

    def _settle(self, late: float, cpu: float, collected: bool) -> None:
        caught = self._caught if self._caught is not None and self._caught.beat == self._beat else None
        self._caught = None
        stall = Stall(
            late * 1000,
            cpu * 1000,
            self.threshold * 1000,
            where=caught.where if caught else None,
            importing=caught.importing if caught else False,
            collected=collected,
        )
        if not stall.counts:
            LOG.info("mockgw: not a problem (importing, collecting garbage or not computing): %s", stall.text())
            return
        request = caught.request if caught else None
        if request is None:
            self.report(stall, None)
        elif caught is not None and caught.finished:
            self.report(_blamed(stall, request, caught.call), request)
        else:  # still running: reported once it is journaled, with its call id
            self._pending[id(request)] = (request, stall)

    def finished(self, request: Marker, call: int | None = None) -> None:
        """A handler is done (`call`: the journal's number for it): clears the marker, reports what waited for it."""
        self.current = None
        caught = self._caught
        if caught is not None and caught.request is request:
            caught.finished, caught.call = True, call
        if self._pending:
            pending = self._pending.pop(id(request), None)
            if pending is not None:
                self.report(_blamed(pending[1], request, call), request)

    # --- on the watchdog's thread --------------------------------------------------------------------------------

    def _watch(self) -> None:
        wait = self.threshold
        while not self._stop.wait(wait):
            beat, caught = self._beat, self._caught
            late = time.monotonic() - beat
            if (caught is None or caught.beat != beat) and is_held(late, self.threshold, self.interval):
                # the frame is not kept (its locals would live on): _Caught takes what it needs at once
                self._caught = _Caught(beat, self.current, sys._current_frames().get(self._loop_thread))
            # look again when the newest beat would be overdue (about once per threshold while the loop runs: the
            # thread takes the interpreter's lock from the loop that rarely), or one beat on while it is held
            wait = max(self.threshold + self.interval - late, self.interval)


def _full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


def _blamed(stall: Stall, request: Marker, call: int | None) -> Stall:
    described = describe_request(request.method, request.path, _session(request), call)
    return replace(stall, request=described)


def _session(request: Marker) -> str:
    if isinstance(request, RawRequest):
        return request.session
    return str(request.match_info.get("session") or request.headers.get(SESSION_HEADER, ""))


WATCHDOG: web.AppKey[Watchdog] = web.AppKey("watchdog", Watchdog)


def setup(app: web.Application) -> None:
    """Give the app its watchdog (started with the app, stopped with it): stalls are logged and kept as problems
    of the session of the request that held the loop, or of the default session and server-wide when none did."""
    state = app[STATE]

    def report(stall: Stall, request: Marker | None) -> None:
        if request is not None and stall.request is None:
            stall = _blamed(stall, request, None)
        LOG.warning("mockgw: %s", stall.text())
        if request is None:  # nobody's request: the server's own (server-wide, and the default session's)
            state.add_problem("", stall.text())
        else:  # one request of one session, like its other per-request problems
            state.add_problem(_session(request), stall.text(), server_wide=False)

    watchdog = Watchdog(state.settings.watchdog_ms, report)
    app[WATCHDOG] = watchdog

    async def start(_: web.Application) -> None:
        watchdog.start()

    async def stop(_: web.Application) -> None:
        watchdog.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def watched(handler: Handler) -> Handler:
    """`handler` with the marker set while it runs (the control routes, which are not journaled)."""

    async def mark(request: web.Request) -> web.StreamResponse:
        watchdog = request.app[WATCHDOG]
        watchdog.current = request
        try:
            return await handler(request)
        finally:
            watchdog.finished(request)

    return mark
