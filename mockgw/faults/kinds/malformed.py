"""`malformed`: one event of a stream is not valid JSON."""

from __future__ import annotations

from dataclasses import field, replace
from typing import ClassVar

from mockgw.core.codec import StreamCodec, corrupt_data
from mockgw.core.frozen import frozen
from mockgw.faults.kind import EVENT, FaultKind, Scope, param
from mockgw.faults.plan import Part, StreamPlan
from mockgw.faults.timing import Drawn


@frozen
class Malformed(FaultKind):
    """Streams: event `at_event` keeps its SSE framing (`event:` line included) but its `data:` is not valid JSON."""

    kind: ClassVar[str] = "malformed"
    scope: ClassVar[Scope] = "stream"
    description: ClassVar[str] = "event `at_event`'s JSON cut in half (still one SSE event)"
    at_event: int = field(metadata=param(EVENT))

    def plan(self, parts: list[Part], drawn: Drawn, codec: StreamCodec) -> StreamPlan:
        k = self.at_event
        if 1 <= k <= len(parts):
            parts = [*parts[: k - 1], replace(parts[k - 1], data=corrupt_data(parts[k - 1].data)), *parts[k:]]
        return StreamPlan(tuple(parts))
