"""`no_finish_reason`: a stream's finish signal is null."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from mockgw.core.codec import StreamCodec
from mockgw.core.frozen import frozen
from mockgw.faults.kind import FaultKind, Scope
from mockgw.faults.plan import Part, StreamPlan
from mockgw.faults.timing import Drawn


@frozen
class NoFinishReason(FaultKind):
    """Streams: the finish signal is null (chat `finish_reason`, Anthropic `stop_reason`, Responses `status`)."""

    kind: ClassVar[str] = "no_finish_reason"
    scope: ClassVar[Scope] = "stream"
    description: ClassVar[str] = "the finish signal is null (chat `finish_reason`)"

    def plan(self, parts: list[Part], drawn: Drawn, codec: StreamCodec) -> StreamPlan:
        return StreamPlan(tuple(replace(p, data=codec.without_finish_reason(p.data)) for p in parts))
