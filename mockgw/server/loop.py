"""The event loop mockgw serves on: uvloop where it is installed, else asyncio's own.

uvloop (libuv, in C) runs the same aiohttp server with less CPU per request and per timer; it is a runtime
dependency except on Windows, where it does not exist. MOCKGW_LOOP=asyncio picks the standard loop anyway.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

DUST_S = 1e-9  # float rounding in a deadline summed from waits (start + 0.02 + 0.02 ...): a deadline within it is due


def _factory() -> Callable[[], asyncio.AbstractEventLoop]:
    if os.environ.get("MOCKGW_LOOP", "").lower() == "asyncio":
        return asyncio.new_event_loop
    try:
        import uvloop
    except ImportError:  # Windows, or an install without it: the standard loop serves the same answers
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def is_uvloop(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether `loop` is uvloop's."""
    return type(loop).__module__.startswith("uvloop")


def clock_ticks(loop: asyncio.AbstractEventLoop) -> int:
    """How many steps a second `loop.time()` counts: 1,000 on uvloop, whose clock is libuv's (whole milliseconds,
    `time()` being their count over 1,000, and its timers fire on them); 0 on asyncio's, the monotonic clock, exact
    for any timer."""
    return 1000 if is_uvloop(loop) else 0


def timer_at(loop: asyncio.AbstractEventLoop, deadline: float) -> float:
    """When to arm a timer on `loop` for `deadline` (loop time) so that it never fires before it: the first step
    of the loop's clock at or after it. uvloop rounds a delay to the nearest millisecond, so a timer armed for
    20.3 ms from now fires at 20 ms, when `loop.time()` says the deadline has not come: code that waits again then
    fires at once, every turn of the loop, until the clock moves on (a busy loop of up to a millisecond)."""
    return _step_up(deadline, clock_ticks(loop))


def timer_delay(loop: asyncio.AbstractEventLoop, seconds: float) -> float:
    """The same for a delay from now (`call_later`, `asyncio.wait_for`): `loop.time()` is on a step already."""
    return _step_up(seconds, clock_ticks(loop))


def _step_up(seconds: float, ticks: int) -> float:
    """`seconds` up to the next of `ticks` steps a second (unchanged with none), give or take DUST_S."""
    return seconds if not ticks else math.ceil(seconds * ticks - DUST_S * ticks) / ticks


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A fresh loop of the fastest kind available."""
    return _factory()()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on the fastest loop available."""
    with asyncio.Runner(loop_factory=_factory()) as runner:
        return runner.run(coroutine)
