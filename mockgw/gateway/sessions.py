"""The sessions a gateway keeps, least recently used first: bounded in count and in idle time.

A long-running shared server sees a new `X-Mockgw-Session` per test (the pytest plugin names one per test on a
remote server), or per request from a careless client. Each session's state is small, but never freeing it grew a
server by ~1 KB per session for ever. Here a session is dropped when it has not been used for `idle_s` seconds, or
when `limit` other named sessions were used since. Both are checked when a new session is made, from the least
recently used end: O(1) amortised per request (each session is dropped at most once), no timer.

The default session ("") is never dropped: it is the one of a developer's curl and of the pytest plugin's own
in-process server, and there is only one of it. A dropped session that comes back starts afresh, as after a reset.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

DEFAULT = ""

S = TypeVar("S")


class Sessions(Generic[S]):
    """Session name -> its state, ordered by last use; `use` makes a missing one (dropping the stale ones first)."""

    def __init__(
        self,
        make: Callable[[], S],
        limit: int,
        idle_s: float,
        clock: Callable[[], float],
        on_drop: Callable[[str], None] = lambda name: None,
    ) -> None:
        self._states: OrderedDict[str, S] = OrderedDict()
        self._used: dict[str, float] = {}  # name -> clock() at its last use
        self._make = make
        self.limit = limit
        self.idle_s = idle_s
        self._clock = clock
        self._on_drop = on_drop
        self.dropped = 0  # sessions dropped as stale, for the docs' "how many" and the tests

    def use(self, name: str) -> S:
        """The session's state, marked as just used (made when missing)."""
        states = self._states
        found = states.get(name)
        now = self._clock()
        if found is None:
            self.sweep(now, room=int(name != DEFAULT))
            found = states[name] = self._make()
        else:
            states.move_to_end(name)
        self._used[name] = now
        return found

    def peek(self, name: str) -> S | None:
        """The session's state if it exists, without marking it used or making it."""
        return self._states.get(name)

    def sweep(self, now: float | None = None, room: int = 0) -> None:
        """Drop the least recently used sessions that are idle too long, or beyond the limit (leaving `room`)."""
        now = self._clock() if now is None else now
        states, used = self._states, self._used
        try:
            while states:
                name = next(iter(states))
                over = len(states) - (DEFAULT in states) + room > self.limit
                idle = self.idle_s > 0 and now - used.get(name, now) > self.idle_s
                if not (over or idle):
                    return
                if name == DEFAULT:
                    if len(states) == 1:
                        return
                    states.move_to_end(name)  # kept; look at the next least recently used
                    continue
                self.drop(name)
                self.dropped += 1
        except RuntimeError:  # changed meanwhile by the pipeline's worker thread: sweep again at the next new session
            return

    def drop(self, name: str) -> None:
        """Forget the session (its state, and whatever `on_drop` keeps for it)."""
        self._states.pop(name, None)
        self._used.pop(name, None)
        self._on_drop(name)

    def clear(self) -> None:
        for name in list(self._states):
            self.drop(name)

    def __contains__(self, name: object) -> bool:
        return name in self._states

    def __getitem__(self, name: str) -> S:
        return self._states[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._states))

    def __len__(self) -> int:
        return len(self._states)

    def values(self) -> list[S]:
        return list(self._states.values())
