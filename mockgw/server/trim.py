"""Giving memory back to the system after a reset or `DELETE /__mockgw/calls` freed a lot of it.

Python frees what the journal and the sessions held, but the C allocator (glibc) keeps the freed pages for later:
the server's RSS stayed at its peak after a reset (issue 11). `malloc_trim(0)` returns them. It runs on a thread
(ctypes lets go of the interpreter during the call), and only when much was freed, so a reset per test costs
nothing. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable

from mockgw.gateway.state import GatewayState

FREED_BYTES = 4 * 1024 * 1024  # journal bytes cleared at once worth giving back
FREED_SESSIONS = 1000  # sessions dropped at once worth giving back


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes  # here: the first trim needs it, start-up does not
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows)
        return None
    return trim


def give_back() -> None:
    """Return the allocator's free pages to the system (glibc only)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def footprint(state: GatewayState) -> tuple[int, int]:
    """What a reset may free: the journal's bytes and the number of sessions."""
    return state.journal.bytes, len(state.sessions)


# what each server freed since it last gave memory back: many small resets (one per test) add up
_FREED: weakref.WeakKeyDictionary[GatewayState, tuple[int, int]] = weakref.WeakKeyDictionary()


def after_freeing(state: GatewayState, before: tuple[int, int]) -> None:
    """Give memory back (on a thread, not awaited) once much was freed, counting since `footprint` said `before`."""
    journal_bytes, sessions = footprint(state)
    freed_bytes, freed_sessions = _FREED.get(state, (0, 0))
    freed_bytes += max(0, before[0] - journal_bytes)
    freed_sessions += max(0, before[1] - sessions)
    if freed_bytes >= FREED_BYTES or freed_sessions >= FREED_SESSIONS:
        asyncio.get_running_loop().run_in_executor(None, give_back)
        freed_bytes = freed_sessions = 0
    _FREED[state] = (freed_bytes, freed_sessions)
