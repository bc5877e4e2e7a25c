"""`stall`: a stream goes silent until released."""

from __future__ import annotations

from dataclasses import field
from typing import ClassVar

from mockgw.core.codec import StreamCodec
from mockgw.core.frozen import frozen
from mockgw.faults.kind import EVENTS, FaultKind, Scope, param
from mockgw.faults.plan import Part, StreamPlan
from mockgw.faults.timing import Drawn


@frozen
class Stall(FaultKind):
    """Streams: after `after_events` events the connection stays open, silent, until the client leaves or a release
    (then the rest of the stream follows) or the server stops."""

    kind: ClassVar[str] = "stall"
    scope: ClassVar[Scope] = "stream"
    description: ClassVar[str] = (
        "`after_events` events, then silence until the client leaves, a release (the rest follows), or server stop"
    )
    completes: ClassVar[bool] = True
    after_events: int = field(metadata=param(EVENTS))

    def plan(self, parts: list[Part], drawn: Drawn, codec: StreamCodec) -> StreamPlan:
        return StreamPlan(tuple(parts), stall_after=min(self.after_events, len(parts)))
