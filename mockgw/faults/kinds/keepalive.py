"""`keepalive`: SSE comments between a stream's events."""

from __future__ import annotations

from dataclasses import field
from typing import ClassVar

from mockgw.core.codec import StreamCodec
from mockgw.core.frozen import frozen
from mockgw.faults.kind import FaultKind, Scope, param
from mockgw.faults.plan import KEEPALIVE, Part, StreamPlan
from mockgw.faults.timing import Drawn


@frozen
class KeepAlive(FaultKind):
    """Streams: `: keep-alive` comments every `every_events` events and/or every `every_ms` of silence."""

    kind: ClassVar[str] = "keepalive"
    scope: ClassVar[Scope] = "stream"
    description: ClassVar[str] = (
        "`: keep-alive` comments after every `every_events` events and/or every `every_ms` of silence"
    )
    completes: ClassVar[bool] = True
    every_events: int | None = field(default=None, metadata=param({"type": "integer", "minimum": 1}))
    every_ms: float | None = field(default=None, metadata=param({"type": "number", "exclusiveMinimum": 0}))

    def plan(self, parts: list[Part], drawn: Drawn, codec: StreamCodec) -> StreamPlan:
        n = self.every_events
        if n:
            spaced: list[Part] = []
            for part in parts:
                spaced.append(part)
                if part.event % n == 0 and not codec.is_terminal(part.data) and part.event < len(parts):
                    spaced.append(Part(0.0, KEEPALIVE))
            parts = spaced
        return StreamPlan(tuple(parts), keepalive_ms=self.every_ms)
