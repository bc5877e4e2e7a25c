"""The event loop mockgw serves on: uvloop where it is installed, else asyncio's own.

uvloop (libuv, in C) runs the same aiohttp server with less CPU per request and per timer; it is a runtime
dependency except on Windows, where it does not exist. MOCKGW_LOOP=asyncio picks the standard loop anyway.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def _factory() -> Callable[[], asyncio.AbstractEventLoop]:
    if os.environ.get("MOCKGW_LOOP", "").lower() == "asyncio":
        return asyncio.new_event_loop
    try:
        import uvloop
    except ImportError:  # Windows, or an install without it: the standard loop serves the same answers
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A fresh loop of the fastest kind available."""
    return _factory()()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on the fastest loop available."""
    with asyncio.Runner(loop_factory=_factory()) as runner:
        return runner.run(coroutine)
