"""One shared clock for every timed write: streams wait on it instead of each arming timers of their own.

A thousand streams at `chunk_ms: 20` wait 50,000 times a second. Each `asyncio.wait_for` made a task and a timer
per wait; here a wait is an entry in one heap, and a single timer, armed for the earliest deadline, serves every
entry that is due in one pass. Under load the loop runs late and many deadlines have passed by the time the timer
fires: they are all served in that one pass, so events due together go out together. No entry is served early (but for
float rounding, `DUST_S`: a nanosecond).

An entry is either a future (`wait`: a coroutine resumes at its deadline) or a `Steps` (`schedule`): a faultless
paced stream that the pass itself writes, so that an event costs a heap entry and a socket write, not the
resumption of a coroutine, a timer, and aiohttp's drain.

The timer is armed on the loop clock's own steps. uvloop's clock counts whole milliseconds and its timers round a
delay to the nearest one, so a timer armed for a deadline between two milliseconds could fire before it: the pass
found nothing due and armed again, for nothing, on every turn of the loop until the next millisecond (about a
thousand passes per paced event, most of a server's CPU under a thousand streams: docs/bench.md, "Ninth session").
Armed for the first step at or after the deadline, it fires once, when the entry is due.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Protocol

from mockgw.server.loop import DUST_S, timer_at

FOREVER = float("inf")


class Steps(Protocol):
    """Work the ticker's pass does when it falls due: `step(now)` returns when it next falls due, or None when done.

    `step(FOREVER)` must finish it at once (the server is stopping: what is left goes out now)."""

    def step(self, now: float) -> float | None: ...


class Ticker:
    """Futures that resolve, and steps that run, at their deadline, all driven by one timer.

    `stop()` resolves every future and finishes every step at once."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, asyncio.Future[None] | Steps]] = []
        self._order = itertools.count()  # ties keep their order; entries are never compared
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for = FOREVER
        self.stopped = False
        self.passes = 0  # passes run: one per deadline (or per group due together), never a busy loop
        # run first in every pass, and when stopping: writes kept for the loop's turn end go before (server/batch.py)
        self.before_pass: Callable[[], None] | None = None

    def wait(self, seconds: float) -> asyncio.Future[None]:
        """A future that resolves `seconds` from now (at once when the ticker has stopped)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if self.stopped or seconds <= 0:
            future.set_result(None)
            return future
        self._push(loop, loop.time() + seconds, future)
        return future

    def schedule(self, at: float, steps: Steps) -> None:
        """Run `steps.step` at loop time `at`, then at every time it returns (at once, to the end, once stopped)."""
        if self.stopped:
            steps.step(FOREVER)
            return
        self._push(asyncio.get_running_loop(), at, steps)

    def _push(self, loop: asyncio.AbstractEventLoop, deadline: float, entry: asyncio.Future[None] | Steps) -> None:
        heapq.heappush(self._heap, (deadline, next(self._order), entry))
        if deadline < self._armed_for:
            self._arm(loop, deadline)

    def _arm(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed_for = deadline
        self._timer = loop.call_at(timer_at(loop, deadline), self._fire, loop)

    def _fire(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.before_pass is not None:
            self.before_pass()
        self.passes += 1
        self._timer = None
        self._armed_for = FOREVER
        due = loop.time() + DUST_S
        heap = self._heap
        order = self._order
        while heap and heap[0][0] <= due:
            entry = heapq.heappop(heap)[2]
            if isinstance(entry, asyncio.Future):
                if not entry.done():  # a waiter that was cancelled (its client left) is simply dropped
                    entry.set_result(None)
                continue
            later = entry.step(due)  # everything due by `due` is served now, so `later` is after it
            if later is not None:
                heapq.heappush(heap, (later, next(order), entry))
        if heap:
            self._arm(loop, heap[0][0])

    def stop(self) -> None:
        """Resolve every waiter and finish every step now, and every later one at once (the server is draining)."""
        self.stopped = True
        if self.before_pass is not None:
            self.before_pass()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        heap, self._heap = self._heap, []
        for _, _, entry in heap:
            if isinstance(entry, asyncio.Future):
                if not entry.done():
                    entry.set_result(None)
            else:
                entry.step(FOREVER)
