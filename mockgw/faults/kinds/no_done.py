"""`no_done`: a stream ends normally but without its terminal event."""

from __future__ import annotations

from typing import ClassVar

from mockgw.core.codec import StreamCodec
from mockgw.core.frozen import frozen
from mockgw.faults.kind import FaultKind, Scope
from mockgw.faults.plan import Part, StreamPlan
from mockgw.faults.timing import Drawn


@frozen
class NoDone(FaultKind):
    """Streams: a normal end without the terminal event (`[DONE]`, `message_stop`, `response.completed`)."""

    kind: ClassVar[str] = "no_done"
    scope: ClassVar[Scope] = "stream"
    description: ClassVar[str] = "a normal end without the terminal event (chat `data: [DONE]`)"

    def plan(self, parts: list[Part], drawn: Drawn, codec: StreamCodec) -> StreamPlan:
        return StreamPlan(tuple(p for p in parts if not codec.is_terminal(p.data)))
