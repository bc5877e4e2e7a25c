"""What one run of the command left behind: its exit, its time, and the journal of the calls it made."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from mockgw.core.frozen import frozen
from mockgw.journal.calls import Call

RATE_LIMIT_CODE = "usage_limit_exceeded"


@frozen
class CallFacts:
    """The facts of one journal entry a verdict reads (parsed from the journal's JSON)."""

    id: str
    start: float  # seconds since the epoch, when the request arrived
    end: float  # when the answer was over (sent, cut or abandoned)
    status: int | None  # None: no answer reached the client (reset, closed, hung up)
    request: str  # the request body as canonical JSON: a retry sends the same one
    fault_source: str | None = None  # e.g. "rule 'verdict-reset'" or "fixture"
    fault: str | None = None
    completed: bool = True  # the whole answer went out as planned
    retry_after: float | None = None  # the Retry-After the fault sent, in seconds
    error_code: str | None = None
    session: str = ""
    path: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CallFacts:
        """One call of `GET /__mockgw/calls` (or `Call.to_json()`)."""
        call = Call.from_json(data)
        start = datetime.fromisoformat(call.time).timestamp()
        found = call.delivered.get("fault")
        fault: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        retry_after = fault.get("retry_after")
        return cls(
            id=call.id,
            start=start,
            end=start + call.duration_ms / 1000,
            status=call.status,
            request=json.dumps(call.body, sort_keys=True),
            fault_source=fault.get("source"),
            fault=call.fault,
            completed=bool(call.delivered.get("completed", True)),
            retry_after=float(retry_after) if isinstance(retry_after, (int, float)) else None,
            error_code=call.error_code,
            session=call.session,
            path=call.path,
        )

    @property
    def answered(self) -> bool:
        """An answer with a success status reached the client in full."""
        return self.status is not None and self.status < 400 and self.completed

    @property
    def ok(self) -> bool:
        """Answered in full with a success status, no fault."""
        return self.answered and self.fault is None


@frozen
class Evidence:
    """One run of the command: how it ended, how long it took, what the gateway saw."""

    exit_code: int | None  # None when it was killed at the time budget
    duration_s: float
    timed_out: bool
    calls: tuple[CallFacts, ...] = ()
    output: str = ""  # the tail of its stdout and stderr
    session: str = ""

    @classmethod
    def of(
        cls,
        exit_code: int | None,
        duration_s: float,
        timed_out: bool,
        journal: Iterable[Mapping[str, Any]],
        output: str = "",
        session: str = "",
    ) -> Evidence:
        """Evidence from a run's journal JSON (model calls only; the control endpoint is not journaled)."""
        calls = sorted((CallFacts.from_json(c) for c in journal), key=lambda c: c.start)
        return cls(exit_code, round(duration_s, 3), timed_out, tuple(calls), output, session)
