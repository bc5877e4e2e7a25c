"""The call journal: every API request received, matched or not, valid or not, as frozen records."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, field
from typing import Any

from mockgw.core.frozen import frozen


@frozen
class Call:
    """One request as the journal keeps it (credentials redacted)."""

    id: str
    time: str  # ISO 8601
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any  # the parsed JSON, or the text when it was not JSON
    tags: tuple[str, ...]
    model: str | None
    fixture: str | None
    status: int
    duration_ms: float
    response: Mapping[str, Any]  # a short summary of what was sent
    session: str = ""
    seed: int = 0
    fault: str | None = None
    near_misses: tuple[Mapping[str, Any], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    # what went out: events/bytes sent, how it ended, the waits drawn, the fault's details and who asked for it
    delivered: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        data["near_misses"] = list(self.near_misses)
        return data


@frozen
class CallFilter:
    """The journal's query parameters; None means any."""

    path: str | None = None
    model: str | None = None
    fixture: str | None = None
    tag: str | None = None
    status: int | None = None
    session: str | None = None
    limit: int | None = None

    def accepts(self, call: Call) -> bool:
        return (
            (self.path is None or call.path == self.path)
            and (self.model is None or call.model == self.model)
            and (self.fixture is None or call.fixture == self.fixture)
            and (self.tag is None or self.tag in call.tags)
            and (self.status is None or call.status == self.status)
            and (self.session is None or call.session == self.session)
        )


class Journal:
    """Calls oldest first, at most `limit` of them and about `max_bytes` of request and response bodies (the
    oldest are dropped first; the newest call is always kept).

    A call can be appended as a function that makes it: the web layer records every request that way, so the
    formatting (time, redaction, dicts) is only paid for calls somebody reads, when they are first read.
    """

    def __init__(self, limit: int, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._calls: deque[Call | Callable[[], Call]] = deque()
        self._sizes: deque[int] = deque()
        self.limit = limit
        self.max_bytes = max_bytes
        self.bytes = 0
        self.total = 0

    def append(self, call: Call | Callable[[], Call], size: int = 0) -> None:
        """Keep `call`, which holds about `size` bytes of bodies; drop the oldest calls over the bounds."""
        self._calls.append(call)
        self._sizes.append(size)
        self.bytes += size
        self.total += 1
        while len(self._calls) > 1 and (len(self._calls) > self.limit or self.bytes > self.max_bytes):
            self._calls.popleft()
            self.bytes -= self._sizes.popleft()

    def _made(self) -> deque[Call | Callable[[], Call]]:
        if not all(isinstance(call, Call) for call in self._calls):
            made = [call if isinstance(call, Call) else call() for call in self._calls]
            self._calls.clear()
            self._calls.extend(made)
        return self._calls

    def calls(self) -> list[Call]:
        """Every call kept, oldest first."""
        return [call for call in self._made() if isinstance(call, Call)]

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls())

    def query(self, where: CallFilter) -> list[Call]:
        found = [call for call in self.calls() if where.accepts(call)]
        return found[-where.limit :] if where.limit else found

    def clear(self, session: str | None = None) -> None:
        kept = (
            []
            if session is None
            else [(call, size) for call, size in zip(self.calls(), self._sizes, strict=True) if call.session != session]
        )
        self._calls.clear()
        self._sizes.clear()
        self._calls.extend(call for call, _ in kept)
        self._sizes.extend(size for _, size in kept)
        self.bytes = sum(self._sizes)
