"""Running the pipeline off the event loop when it may be heavy, so that one request never stalls the others.

The pipeline is pure and synchronous. For most requests it takes microseconds and runs inline. A request that can
ask for a generated answer from its own schema (`json_schema`, `tools`) or is large can take up to the answer
budget's ~100 ms of CPU: it runs on one worker thread, and the interpreter switches back to the loop every few
milliseconds, so `/__mockgw/health` and other requests are still answered meanwhile.

Pipeline runs never overlap: while the worker has work, every later request queues behind it on the same worker
(a single thread), and a request runs inline only when the worker is idle.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from aiohttp import web

T = TypeVar("T")

HEAVY_BYTES = 32 * 1024  # bodies past this run on the worker (parsing, validating and counting them takes ms)
HEAVY_MARKERS = (b'"json_schema"', b'"tools"')  # what lets a client's schema drive generation
SWITCH_INTERVAL_S = 0.0005


class Offloader:
    """One worker thread, and how many pipeline runs it has queued."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mockgw-pipeline")
        self.queued = 0
        self.saved_interval = sys.getswitchinterval()

    def inline(self, body: bytes) -> bool:
        """Whether a request with this body runs inline (light, and the worker idle): the caller then calls the
        pipeline itself, without a coroutine around it."""
        return self.queued == 0 and not is_heavy(body)

    async def run(self, heavy: bool, function: Callable[[], T]) -> T:
        """`function()`, inline when it is light and the worker idle, else on the worker (in order)."""
        if not heavy and self.queued == 0:
            return function()
        if self.queued == 0:
            # while the worker computes, the interpreter hands the loop its turn every 0.5 ms instead of 5 ms: a
            # health check needs several turns (read, route, write), each a wait for the worker's time slice
            self.saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        self.queued += 1
        try:
            context = contextvars.copy_context()
            return await asyncio.get_running_loop().run_in_executor(self.executor, context.run, function)
        finally:
            self.queued -= 1
            if self.queued == 0:
                sys.setswitchinterval(self.saved_interval)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


OFFLOADER: web.AppKey[Offloader] = web.AppKey("offloader", Offloader)


def is_heavy(body: bytes) -> bool:
    """Whether the pipeline may take long on this body (a cheap look at the bytes, no parsing)."""
    return len(body) > HEAVY_BYTES or HEAVY_MARKERS[0] in body or HEAVY_MARKERS[1] in body


def setup(app: web.Application) -> None:
    """Give the app its worker; it is shut down with the app."""
    offloader = Offloader()
    app[OFFLOADER] = offloader

    async def close(_: web.Application) -> None:
        offloader.close()

    app.on_cleanup.append(close)
