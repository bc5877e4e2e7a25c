"""Answers kept back on purpose (`hold`, the `hang` and `stall` faults) until a test releases them.

A test starts a request, waits until it is held (`GET /__mockgw/holds?wait_for=1`), then cancels its client or
releases the answer (`POST /__mockgw/release`): timing tests without sleeps. Stopping the server releases everything.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class Held:
    """One answer waiting for its release."""

    number: int
    session: str
    fixture: str | None
    path: str
    kind: str  # hold | hang | stall
    arrived: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))
    since: float = field(default_factory=time.monotonic)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str | None = None  # release | server_stop

    def release(self, reason: str) -> None:
        if not self.released.is_set():
            self.reason = reason
            self.released.set()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": f"held-{self.number}",
            "session": self.session,
            "fixture": self.fixture,
            "path": self.path,
            "kind": self.kind,
            "arrived": self.arrived,
            "held_ms": round((time.monotonic() - self.since) * 1000, 3),
        }


class Holds:
    """The answers held right now, oldest first, and the server's 'stopping' flag."""

    def __init__(self) -> None:
        self._held: list[Held] = []
        self._numbers = itertools.count(1)
        self.stopping = asyncio.Event()
        self.listeners: list[asyncio.Event] = []  # set whenever an answer starts being held

    def hold(self, session: str, fixture: str | None, path: str, kind: str) -> Held:
        held = Held(next(self._numbers), session, fixture, path, kind)
        if self.stopping.is_set():
            held.release("server_stop")
        self._held.append(held)
        for event in self.listeners:
            event.set()
        return held

    def drop(self, held: Held) -> None:
        if held in self._held:
            self._held.remove(held)

    def held(self, session: str | None = None, fixture: str | None = None) -> list[Held]:
        return [
            h
            for h in self._held
            if (session is None or h.session == session)
            and (fixture is None or h.fixture == fixture)
            and not h.released.is_set()
        ]

    def release(self, session: str, fixture: str | None = None, count: int | None = None) -> int:
        """Release the oldest `count` (all when None) held answers of the session (and fixture); how many."""
        chosen = self.held(session, fixture)
        if count is not None:
            chosen = chosen[:count]
        for held in chosen:
            held.release("release")
        return len(chosen)

    def stop(self) -> None:
        """The server is stopping: every wait ends now."""
        self.stopping.set()
        for held in self._held:
            held.release("server_stop")
