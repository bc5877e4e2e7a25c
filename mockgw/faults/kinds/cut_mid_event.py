"""`cut_mid_event`: a stream ends in the middle of an event."""

from __future__ import annotations

from dataclasses import field, replace
from typing import ClassVar

from mockgw.core.codec import StreamCodec, half_event
from mockgw.core.frozen import frozen
from mockgw.faults.kind import EVENT, FaultKind, Scope, param
from mockgw.faults.plan import Part, StreamPlan
from mockgw.faults.timing import Drawn


@frozen
class CutMidEvent(FaultKind):
    """Streams: send the events before `at_event`, then that event up to half its `data:` line, then close."""

    kind: ClassVar[str] = "cut_mid_event"
    scope: ClassVar[Scope] = "stream"
    description: ClassVar[str] = (
        "events before `at_event`, then half of that event's `data:` line, then FIN (or RST with `rst`)"
    )
    at_event: int = field(metadata=param(EVENT))
    rst: bool = field(default=False, metadata=param({"type": "boolean"}))

    def plan(self, parts: list[Part], drawn: Drawn, codec: StreamCodec) -> StreamPlan:
        k = self.at_event
        if not 1 <= k <= len(parts):
            return StreamPlan(tuple(parts))
        half = replace(parts[k - 1], data=half_event(parts[k - 1].data))
        return StreamPlan((*parts[: k - 1], half), "reset" if self.rst else "close")
