"""`error_event`: a stream carries its format's error event, then ends."""

from __future__ import annotations

from dataclasses import field
from typing import ClassVar

from mockgw.core.codec import StreamCodec
from mockgw.core.errors import ApiError
from mockgw.core.frozen import frozen
from mockgw.faults.kind import EVENT, FaultKind, Scope, param
from mockgw.faults.plan import Part, StreamPlan
from mockgw.faults.timing import Drawn


@frozen
class ErrorEvent(FaultKind):
    """Streams: event `at_event` is the format's error event (chat: `data: {"error": {...}}`; Anthropic and
    Responses: `event: error`) and the stream ends there, cleanly and without its terminal event."""

    kind: ClassVar[str] = "error_event"
    scope: ClassVar[Scope] = "stream"
    description: ClassVar[str] = (
        'the format\'s error event as event `at_event`, then a clean end. Chat: `data: {"error": {...}}`, openai '
        "`APIError`"
    )
    at_event: int = field(metadata=param(EVENT))
    code: str = field(default="provider_error", metadata=param({"type": "string"}))
    message: str = field(
        default="The upstream provider returned an error. Please try again later.",
        metadata=param({"type": "string"}),
    )
    error_type: str = field(default="provider_error", metadata=param({"type": "string"}))

    def error(self) -> ApiError:
        """The error the event carries (502: a provider failure; the status itself is never sent, headers are out)."""
        return ApiError(502, self.code, self.message, self.error_type)

    def plan(self, parts: list[Part], drawn: Drawn, codec: StreamCodec) -> StreamPlan:
        k = self.at_event
        if not 1 <= k <= len(parts) + 1:
            return StreamPlan(tuple(parts))
        wait = parts[k - 1].wait_ms if k <= len(parts) else drawn.chunk_ms
        return StreamPlan((*parts[: k - 1], Part(wait, codec.error_event(self.error(), k), k)))
