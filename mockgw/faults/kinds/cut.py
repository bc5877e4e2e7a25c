"""`cut`: a stream ends after some whole events, without its terminal event."""

from __future__ import annotations

from dataclasses import field
from typing import ClassVar

from mockgw.core.codec import StreamCodec
from mockgw.core.frozen import frozen
from mockgw.faults.kind import EVENTS, FaultKind, Scope, param
from mockgw.faults.plan import Part, StreamPlan
from mockgw.faults.timing import Drawn


@frozen
class Cut(FaultKind):
    """Streams: send `after_events` whole events, then end without the terminal event (FIN, or RST with `rst`)."""

    kind: ClassVar[str] = "cut"
    scope: ClassVar[Scope] = "stream"
    description: ClassVar[str] = (
        "`after_events` whole events, then FIN (or RST with `rst`) without `[DONE]`. httpx `RemoteProtocolError` "
        "(incomplete chunked read), aiohttp `ClientPayloadError`"
    )
    after_events: int = field(metadata=param(EVENTS))
    rst: bool = field(default=False, metadata=param({"type": "boolean"}))

    def plan(self, parts: list[Part], drawn: Drawn, codec: StreamCodec) -> StreamPlan:
        k = self.after_events
        return StreamPlan(tuple(parts[:k]), "reset" if self.rst else ("close" if k < len(parts) else "eof"))
